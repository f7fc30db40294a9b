/// Who may do what, by mode: the rules the peer API, discovery and the roster spread follow. A box without a roster
/// is in LAN mode and shares with every box; a box with one shares only with its members.
public enum HouseholdAccess {
    /// Why the peer API refuses the box that proved `peerID` (nil: it is answered). `peerID` is nil on a
    /// connection without TLS, which only tests make, and which a household refuses.
    public static func refusal(of peerID: String?, roster: Roster?) -> String? {
        guard let roster else { return nil }
        guard let peerID else { return "this box shares only with its household; the connection proved no key" }
        if roster.isMember(peerID) { return nil }
        if roster.records[peerID] != nil {
            return "\(peerID) was removed from this box's household"
        }
        return "this box shares only with its household, and \(peerID) is not in it: pair it with "
            + "`mediapeerctl pair` on a member and `mediapeerctl join CODE` on it"
    }

    /// Why the box that proved `peerID` may not read the roster (nil: it may): a member, or a box the roster
    /// records as removed, which learns so from the roster's signed record when it was offline at its removal.
    public static func rosterRefusal(of peerID: String, roster: Roster) -> String? {
        roster.records[peerID] != nil ? nil : refusal(of: peerID, roster: roster)
    }

    /// Whether an announced box is followed (connected to at all): in LAN mode, every box (a box of a household
    /// answers it 403, and it must find a member to join a household); in a household, only a member, since this
    /// box makes no request to anyone else, and not one announcing another household (it left this one, and this
    /// box was not told). A member announcing no household is followed: a box's announcement is updated seconds
    /// after it joins. Any other box is ignored before any connection; a box that joined through another member is
    /// followed once this box's roster lists it.
    public static func follows(announcedHousehold: String?, peerID: String?, roster: Roster?) -> Bool {
        guard let roster else { return true }
        guard let peerID, roster.isMember(peerID) else { return false }
        return announcedHousehold == nil || announcedHousehold == roster.householdID
    }

    /// Whether to pull the roster of `peerID`, who announced `tag`: a member whose roster differs from this box's.
    public static func pullsRoster(of peerID: String, announcedTag: String?, roster: Roster?) -> Bool {
        guard let roster, let announcedTag, roster.isMember(peerID) else { return false }
        return announcedTag != roster.tag
    }
}
