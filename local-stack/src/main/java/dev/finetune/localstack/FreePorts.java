package dev.finetune.localstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds free TCP ports on loopback for servers whose port the caller leaves open. A port is found by
 * binding port 0 and closing the socket, so the system may offer the same port again to the next
 * probe: a port once handed out in this JVM is never handed out again (a stack's S3 server was once
 * given the port its Kafka controller had been given a moment before, and the controller failed to
 * bind it).
 */
public final class FreePorts {
    /** Probes for a port not handed out yet before giving up. */
    static final int ATTEMPTS = 100;

    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private FreePorts() {}

    public static int find() {
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            int port = probe();
            if (HANDED_OUT.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException(
                "no free port on loopback that this JVM has not handed out already, in " + ATTEMPTS + " probes");
    }

    private static int probe() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port on loopback", e);
        }
    }
}
