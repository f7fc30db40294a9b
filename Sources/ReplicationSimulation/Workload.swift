import Foundation

/// What a title is, for its size and for what arrives new (films and episodes; albums arrive rarely enough to leave out).
public enum TitleKind: String, Sendable, CaseIterable {
    case film
    case episode
    case song
}

/// One title of the home's library: its original lives in its owner's media folders from `arrivalHour` on.
public struct SimulatedTitle: Sendable, Equatable {
    public init(index: Int, kind: TitleKind, size: Int64, owner: Int, arrivalHour: Int = 0, popularityRank: Int) {
        self.index = index
        self.kind = kind
        self.size = size
        self.owner = owner
        self.arrivalHour = arrivalHour
        self.popularityRank = popularityRank
    }

    public let index: Int
    public let kind: TitleKind
    public let size: Int64
    public let owner: Int
    /// Hours since the start of the run; 0 for the library the home starts with.
    public let arrivalHour: Int
    /// 1 for the most popular title of the home; each box's taste perturbs it.
    public let popularityRank: Int
}

/// A user starting a title on a box.
public struct SimulatedPlay: Sendable, Equatable {
    public init(time: Double, box: Int, title: Int) {
        self.time = time
        self.box = box
        self.title = title
    }

    /// Seconds since the start of the run.
    public let time: Double
    public let box: Int
    public let title: Int
}

/// The figures a workload is generated from; every one is printed with the tables.
public struct WorkloadSettings: Sendable, Equatable {
    public var boxes: Int
    public var days: Int
    /// Zipf exponent of the home-wide popularity.
    public var alpha: Double
    public var seed: UInt64
    public var filmsPerBox = 20
    public var episodesPerBox = 60
    public var songsPerBox = 400
    /// Mean plays a day on a box that is on at least an hour that day (Poisson).
    public var playsPerBoxPerDay = 4.0
    /// New films and episodes a day, per box of the home (Poisson over the home).
    public var newTitlesPerBoxPerDay = 0.2
    /// Share of plays going to titles that arrived lately (their burst of demand), when there are any.
    public var burstShare = 0.25
    /// How long a new title stays in the burst, and the half-life of its pull within it.
    public var burstWindowDays = 4.0
    public var burstHalfLifeDays = 1.0
    /// Standard deviation of the log-normal factor that gives each box its own taste, title by title.
    public var tasteSpread = 1.0
    /// Each box's cache quota as a share of the mean box library.
    public var quotaShare = 0.2
    /// Share of boxes that are never switched off; the others are off a few hours every day.
    public var alwaysOnShare = 0.3
    public var offlineHours: ClosedRange<Int> = 2...10
    /// Each box misses whole days with a probability drawn up to this.
    public var maximumAbsenceProbability = 0.1

    public init(boxes: Int, days: Int = 30, alpha: Double = 0.8, seed: UInt64) {
        self.boxes = boxes
        self.days = days
        self.alpha = alpha
        self.seed = seed
    }
}

/// A generated household: its boxes' libraries, when each box is on, and every play of the run, all from one seed.
public struct Workload: Sendable {
    public static let secondsPerHour = 3600.0
    public let settings: WorkloadSettings
    public let titles: [SimulatedTitle]
    /// Replica bytes each box may hold.
    public let quota: Int64
    /// The library the home starts with, in bytes (originals only).
    public let initialLibraryBytes: Int64
    public let plays: [SimulatedPlay]
    public var hours: Int { settings.days * 24 }

    /// The bytes every strategy must move at least: the first play of each title on each box that does not own it
    /// (a copy made earlier costs the same bytes). Plays that fail do not count, as no bytes move for them.
    public var compulsoryBytes: Int64 {
        var seen = Set<Int>()
        var bytes: Int64 = 0
        for play in plays where titles[play.title].owner != play.box {
            if seen.insert(play.title * settings.boxes + play.box).inserted { bytes += titles[play.title].size }
        }
        return bytes
    }
    private let onlineHours: [Bool]
    /// Per box, the running sum of its taste weights over title indices: sampling by binary search, and each
    /// weight recovered as a difference (one array per box instead of two).
    private let cumulativeTaste: [[Double]]
    /// The titles that arrive during the run (the candidates for a burst), in catalog order.
    private let arrivals: [SimulatedTitle]

    public init(settings: WorkloadSettings) {
        precondition(settings.boxes > 0 && settings.days > 0, "a workload needs boxes and days")
        let root = SplitMix64(seed: settings.seed)
        var catalogRandom = root.derived(1)
        let titles = Self.makeCatalog(settings, random: &catalogRandom)
        self.settings = settings
        self.titles = titles
        let initial = titles.filter { $0.arrivalHour == 0 }.reduce(Int64(0)) { $0 + $1.size }
        initialLibraryBytes = initial
        quota = Int64(settings.quotaShare * Double(initial) / Double(settings.boxes))
        var onlineRandom = root.derived(2)
        let online = Self.makeOnlineHours(settings, random: &onlineRandom)
        onlineHours = online
        var tasteRandom = root.derived(3)
        let taste = Self.makeTaste(settings, titles: titles, random: &tasteRandom)
        cumulativeTaste = taste
        arrivals = titles.filter { $0.arrivalHour > 0 }
        var playRandom = root.derived(4)
        plays = Self.makePlays(settings, titles: titles, online: online, taste: taste, random: &playRandom)
    }

    /// A workload written out by hand (for tests): these titles and plays, every box online but in `offline`
    /// (box, hour) pairs, every title equally liked.
    public init(
        boxes: Int, days: Int, titles: [SimulatedTitle], quota: Int64, plays: [SimulatedPlay],
        offline: [(box: Int, hour: Int)] = []
    ) {
        precondition(titles.enumerated().allSatisfy { $0.offset == $0.element.index }, "titles indexed in order")
        settings = WorkloadSettings(boxes: boxes, days: days, seed: 0)
        self.titles = titles
        self.quota = quota
        initialLibraryBytes = titles.filter { $0.arrivalHour == 0 }.reduce(Int64(0)) { $0 + $1.size }
        var online = [Bool](repeating: true, count: boxes * days * 24)
        for entry in offline { online[entry.box * days * 24 + entry.hour] = false }
        onlineHours = online
        cumulativeTaste = Array(repeating: titles.indices.map { Double($0 + 1) }, count: boxes)
        arrivals = titles.filter { $0.arrivalHour > 0 }
        self.plays = plays.sorted { ($0.time, $0.box) < ($1.time, $1.box) }
    }

    public func isOnline(box: Int, hour: Int) -> Bool {
        onlineHours[box * hours + min(max(hour, 0), hours - 1)]
    }

    /// How much box `box` likes `title`: the Zipf weight of its rank times the box's own factor.
    public func tasteWeight(box: Int, title: Int) -> Double {
        let sums = cumulativeTaste[box]
        return title == 0 ? sums[0] : sums[title] - sums[title - 1]
    }

    /// The Zipf weight of a rank, before any box's taste.
    public func zipfWeight(rank: Int) -> Double {
        1 / pow(Double(rank), settings.alpha)
    }

    /// The expected number of plays of each title on each box during day `day`, from the distributions the plays are
    /// drawn from (new titles' pull taken at midday; as if the box were on that day, since demand is what the box's
    /// users want, not whether they happen to be home): what the oracle knows. `plays[box][title]`; only titles that
    /// arrived by the end of the day have any.
    public func expectedPlays(onDay day: Int) -> [[Double]] {
        let endHour = (day + 1) * 24
        let arrived = titles.filter { $0.arrivalHour < endHour }.map(\.index)
        let recent = recentTitles(at: (Double(day) * 24 + 12) * Self.secondsPerHour)
        return (0..<settings.boxes).map { box in
            var plays = [Double](repeating: 0, count: titles.count)
            let burstShare = recent.isEmpty ? 0 : settings.burstShare
            let catalogWeight = arrived.reduce(0.0) { $0 + tasteWeight(box: box, title: $1) }
            let perDay = settings.playsPerBoxPerDay
            for title in arrived {
                plays[title] = perDay * (1 - burstShare) * tasteWeight(box: box, title: title) / catalogWeight
            }
            let pulls = recent.map { burstPull(box: box, title: $0.title, age: $0.age) }
            let totalPull = pulls.reduce(0, +)
            for (entry, pull) in zip(recent, pulls) where totalPull > 0 {
                plays[entry.title] += perDay * burstShare * pull / totalPull
            }
            return plays
        }
    }

    private func recentTitles(at time: Double) -> [(title: Int, age: Double)] {
        Self.recentTitles(arrivals, settings: settings, at: time)
    }

    private func burstPull(box: Int, title: Int, age: Double) -> Double {
        Self.burstPull(
            settings, taste: tasteWeight(box: box, title: title), rank: titles[title].popularityRank, age: age)
    }
}

extension Workload {
    private static func makeCatalog(_ settings: WorkloadSettings, random: inout SplitMix64) -> [SimulatedTitle] {
        var drafts: [(kind: TitleKind, size: Int64, owner: Int, arrivalHour: Int)] = []
        for box in 0..<settings.boxes {
            for _ in 0..<settings.filmsPerBox { drafts.append((.film, size(of: .film, &random), box, 0)) }
            for _ in 0..<settings.episodesPerBox { drafts.append((.episode, size(of: .episode, &random), box, 0)) }
            for _ in 0..<settings.songsPerBox { drafts.append((.song, size(of: .song, &random), box, 0)) }
        }
        for day in 1..<max(settings.days, 1) {
            let count = random.nextPoisson(mean: settings.newTitlesPerBoxPerDay * Double(settings.boxes))
            for _ in 0..<count {
                let kind: TitleKind = random.nextUnit() < 0.4 ? .film : .episode
                let owner = Int(random.next() % UInt64(settings.boxes))
                let hour = day * 24 + Int(random.next() % 24)
                drafts.append((kind, size(of: kind, &random), owner, hour))
            }
        }
        var ranks = Array(1...drafts.count)
        ranks.shuffle(using: &random)
        return drafts.enumerated().map { index, draft in
            SimulatedTitle(
                index: index, kind: draft.kind, size: draft.size, owner: draft.owner,
                arrivalHour: draft.arrivalHour, popularityRank: ranks[index])
        }
    }

    /// Films 1–8 GB (log-uniform), episodes 0.3–1.5 GB, songs 3–12 MB.
    private static func size(of kind: TitleKind, _ random: inout SplitMix64) -> Int64 {
        let bytes: Double
        switch kind {
        case .film: bytes = 1e9 * pow(8, random.nextUnit())
        case .episode: bytes = 0.3e9 + 1.2e9 * random.nextUnit()
        case .song: bytes = 3e6 + 9e6 * random.nextUnit()
        }
        return Int64(bytes)
    }

    private static func makeOnlineHours(_ settings: WorkloadSettings, random: inout SplitMix64) -> [Bool] {
        let hours = settings.days * 24
        var online = [Bool](repeating: true, count: settings.boxes * hours)
        for box in 0..<settings.boxes {
            let alwaysOn = random.nextUnit() < settings.alwaysOnShare
            let offStart = Int(random.next() % 24)
            let span = settings.offlineHours
            let offLength = span.lowerBound + Int(random.next() % UInt64(span.count))
            let absence = random.nextUnit() * settings.maximumAbsenceProbability
            for day in 0..<settings.days {
                let absent = day > 0 && random.nextUnit() < absence
                for hourOfDay in 0..<24 {
                    let sinceOff = (hourOfDay - offStart + 24) % 24
                    let off = absent || (!alwaysOn && sinceOff < offLength)
                    online[box * hours + day * 24 + hourOfDay] = !off
                }
            }
        }
        return online
    }

    private static func makeTaste(
        _ settings: WorkloadSettings, titles: [SimulatedTitle], random: inout SplitMix64
    ) -> [[Double]] {
        (0..<settings.boxes).map { _ in
            var running = 0.0
            return titles.map { title in
                let factor = settings.tasteSpread > 0 ? exp(settings.tasteSpread * random.nextGaussian()) : 1
                running += factor / pow(Double(title.popularityRank), settings.alpha)
                return running
            }
        }
    }

    static func recentTitles(
        _ arrivals: [SimulatedTitle], settings: WorkloadSettings, at time: Double
    ) -> [(title: Int, age: Double)] {
        let window = settings.burstWindowDays * 24 * secondsPerHour
        return arrivals.compactMap { title in
            let age = time - Double(title.arrivalHour) * secondsPerHour
            return age >= 0 && age < window ? (title.index, age) : nil
        }
    }

    /// A new title's pull on a box: the box's own factor for it (not its rank: a new release is popular whatever
    /// the back catalog's ranking), halving every `burstHalfLifeDays`.
    static func burstPull(_ settings: WorkloadSettings, taste: Double, rank: Int, age: Double) -> Double {
        let factor = taste * pow(Double(rank), settings.alpha)
        let halfLife = settings.burstHalfLifeDays * 24 * secondsPerHour
        return factor * exp2(-age / halfLife)
    }

    private static func makePlays(
        _ settings: WorkloadSettings, titles: [SimulatedTitle], online: [Bool], taste: [[Double]],
        random: inout SplitMix64
    ) -> [SimulatedPlay] {
        let hours = settings.days * 24
        let arrivals = titles.filter { $0.arrivalHour > 0 }
        var plays: [SimulatedPlay] = []
        for day in 0..<settings.days {
            for box in 0..<settings.boxes {
                let onHours = (day * 24..<(day + 1) * 24).filter { online[box * hours + $0] }
                guard !onHours.isEmpty else { continue }
                let count = random.nextPoisson(mean: settings.playsPerBoxPerDay)
                for _ in 0..<count {
                    let hour = onHours[Int(random.next() % UInt64(onHours.count))]
                    let time = (Double(hour) + random.nextUnit()) * secondsPerHour
                    let title = pickTitle(
                        settings, titles: titles, arrivals: arrivals, sums: taste[box], at: time, random: &random)
                    plays.append(SimulatedPlay(time: time, box: box, title: title))
                }
            }
        }
        plays.sort { ($0.time, $0.box) < ($1.time, $1.box) }
        return plays
    }

    private static func pickTitle(
        _ settings: WorkloadSettings, titles: [SimulatedTitle], arrivals: [SimulatedTitle], sums: [Double],
        at time: Double, random: inout SplitMix64
    ) -> Int {
        let recent = recentTitles(arrivals, settings: settings, at: time)
        if !recent.isEmpty && random.nextUnit() < settings.burstShare {
            let pulls = recent.map { entry in
                let weight = entry.title == 0 ? sums[0] : sums[entry.title] - sums[entry.title - 1]
                return burstPull(settings, taste: weight, rank: titles[entry.title].popularityRank, age: entry.age)
            }
            var target = random.nextUnit() * pulls.reduce(0, +)
            for (entry, pull) in zip(recent, pulls) {
                target -= pull
                if target < 0 { return entry.title }
            }
            return recent[recent.count - 1].title
        }
        while true {
            let title = sample(sums, random: &random)
            if Double(titles[title].arrivalHour) * secondsPerHour <= time { return title }
        }
    }

    /// The index whose running-sum interval holds a uniform point.
    static func sample(_ sums: [Double], random: inout SplitMix64) -> Int {
        let target = random.nextUnit() * sums[sums.count - 1]
        var low = 0
        var high = sums.count - 1
        while low < high {
            let middle = (low + high) / 2
            if sums[middle] > target { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
