import ControlWire
import PeerWire

/// Which announcements reach the peer table: those a rule admits. The others are held back, the latest per
/// instance, and handed on as soon as a later rule admits them; an instance handed on that the rule no longer
/// admits (by a new announcement, or by a new rule) is handed on as removed.
///
/// mDNS tells of an instance only when its records change, so an announcement turned away once would otherwise
/// stay unseen until its next change: a box that joined a household through another member would be ignored by
/// this member for good if its announcement came before this member's roster listed it.
public struct AnnouncementGate: Sendable {
    /// Whether an announcement is let through.
    public typealias Rule = (ResolvedService) -> Bool

    /// The turned-away announcements, latest per instance.
    private var held: [ServiceInstance: ResolvedService] = [:]
    /// The announcements handed on, latest per instance, until their instance goes.
    private var passed: [ServiceInstance: ResolvedService] = [:]
    /// How many announcements are held back, and how many handed on are remembered, at most. Past that, an
    /// arbitrary one is forgotten for each new one: a held one is seen again at its next change, a passed one is
    /// no longer removed when the rule turns it away (its peer then fails its checks instead).
    public let capacity: Int

    public init(capacity: Int = 4 * PeerLimits.maxPeers) {
        precondition(capacity > 0, "an announcement gate holds at least one announcement")
        self.capacity = capacity
    }

    /// How many announcements are held back.
    public var heldCount: Int { held.count }

    /// What the table is handed for `event`: a resolution `admits` lets through; the removal of its instance
    /// when it turns away an instance handed on before; nil when it turns away another (which is held back). A
    /// removal always passes and forgets its instance; avahi-daemon going away forgets every instance, as each
    /// is resolved anew once it is back.
    public mutating func pass(_ event: DiscoveryEvent, admits: Rule) -> DiscoveryEvent? {
        switch event {
        case .resolved(let service):
            if admits(service) {
                held[service.instance] = nil
                Self.remember(service, in: &passed, capacity: capacity)
                return event
            }
            Self.remember(service, in: &held, capacity: capacity)
            return passed.removeValue(forKey: service.instance) == nil ? nil : .removed(service.instance)
        case .removed(let instance):
            held[instance] = nil
            passed[instance] = nil
            return event
        case .daemonDown:
            held.removeAll()
            passed.removeAll()
            return event
        case .browseSettled, .daemonUp, .registered, .nameChanged:
            return event
        }
    }

    /// The rule changed to `admits`: the held-back announcements it lets through are handed on as resolutions,
    /// the instances handed on that it turns away as removals (and held back).
    public mutating func ruleChanged(admits: Rule) -> [DiscoveryEvent] {
        let admitted = held.values.filter(admits).sorted(by: Self.byInstance)
        let refused = passed.values.filter { !admits($0) }.sorted(by: Self.byInstance)
        // Both taken out first, so that making room for one does not forget another that moves.
        for service in admitted { held[service.instance] = nil }
        for service in refused { passed[service.instance] = nil }
        for service in admitted { Self.remember(service, in: &passed, capacity: capacity) }
        for service in refused { Self.remember(service, in: &held, capacity: capacity) }
        return refused.map { .removed($0.instance) } + admitted.map(DiscoveryEvent.resolved)
    }

    private static func remember(
        _ service: ResolvedService, in services: inout [ServiceInstance: ResolvedService], capacity: Int
    ) {
        if services[service.instance] == nil, services.count >= capacity {
            services.remove(at: services.startIndex)
        }
        services[service.instance] = service
    }

    private static func byInstance(_ first: ResolvedService, _ second: ResolvedService) -> Bool {
        (first.instance.name, first.instance.interfaceIndex, first.instance.family.rawValue)
            < (second.instance.name, second.instance.interfaceIndex, second.instance.family.rawValue)
    }
}
