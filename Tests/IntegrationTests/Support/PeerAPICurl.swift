extension SimulatedHome {
    /// curl, set up to call the peer API from box `index` as that box: mutual TLS with the box's own key and
    /// certificate. `-k`: the test reads what the API answers; which box answers, the boxes check themselves.
    func peerCurl(_ index: Int) -> [String] {
        ["curl", "-k", "--cert", box(index) + "/state/box-cert.pem", "--key", box(index) + "/state/box-key.pem"]
    }
}
