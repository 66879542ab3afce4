package dev.sluice.stream;

/** What integration tests may see of an engine beyond its public counters: its rate groups, for leak checks. */
public final class EngineProbe {

    private EngineProbe() {
    }

    /** Users with a {@code limitRatePerUser} group now (downloading, or their last download not yet paid for). */
    public static int userRateGroups(TransferEngine engine) {
        return engine.userRateGroups();
    }

    /** Client addresses with a {@code limitRatePerClient} group now. */
    public static int clientRateGroups(TransferEngine engine) {
        return engine.clientRateGroups();
    }
}
