package dev.sluice.launcher;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

/** Which clients {@code --sendfile=remote} copies to: those on this machine, and no others. */
class SendfileConnectorTest {

    private static InetSocketAddress at(String address, int port) throws UnknownHostException {
        return new InetSocketAddress(InetAddress.getByName(address), port);
    }

    @Test
    void aLoopbackClientOrOneFromTheConnectionsOwnAddressIsOnThisMachine() throws Exception {
        assertTrue(SendfileConnector.onThisMachine(at("127.0.0.1", 8080), at("127.0.0.1", 40000)));
        assertTrue(SendfileConnector.onThisMachine(at("0.0.0.0", 8080), at("127.0.0.2", 40000)), "all of 127/8");
        assertTrue(SendfileConnector.onThisMachine(at("::1", 8080), at("::1", 40000)));
        assertTrue(SendfileConnector.onThisMachine(at("::ffff:127.0.0.1", 8080), at("::ffff:127.0.0.1", 40000)),
                "an IPv4 loopback client of a dual-stack socket");
        assertTrue(SendfileConnector.onThisMachine(at("10.0.0.5", 8080), at("10.0.0.5", 40000)),
                "a client that connected to the host's own address from the host");
        assertTrue(SendfileConnector.onThisMachine(at("2001:db8::5", 8080), at("2001:db8::5", 40000)));
    }

    @Test
    void anyOtherClientIsOnAnotherMachine() throws Exception {
        assertFalse(SendfileConnector.onThisMachine(at("10.0.0.5", 8080), at("10.0.0.6", 40000)));
        assertFalse(SendfileConnector.onThisMachine(at("2001:db8::5", 8080), at("2001:db8::6", 40000)));
        assertFalse(SendfileConnector.onThisMachine(at("10.0.0.5", 8080), at("192.0.2.7", 40000)));
        assertFalse(SendfileConnector.onThisMachine(null, at("192.0.2.7", 40000)), "no local address known");
        assertFalse(SendfileConnector.onThisMachine(at("10.0.0.5", 8080), InetSocketAddress.createUnresolved("a", 1)),
                "no address at all: sendfile, the mode's own choice");
        assertFalse(SendfileConnector.onThisMachine(at("10.0.0.5", 8080), null));
    }
}
