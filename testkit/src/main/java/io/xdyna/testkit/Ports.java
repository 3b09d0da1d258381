package io.xdyna.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

/** Free TCP ports on the loopback interface. */
public final class Ports {
    private Ports() {
    }

    /**
     * A port nobody listens on right now. Another process may take it before the caller binds it;
     * fine for tests and first starts, and why the local stack passes fixed ports instead.
     */
    public static int free() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port", e);
        }
    }

    /**
     * A port {@code p} such that {@code p} and {@code p + 1} are both free right now (a Kafka broker
     * given one client port puts its controller on the next). Checked by binding both, unlike
     * {@code free() + 1}, which another process may well hold.
     */
    public static int freePair() {
        for (int tries = 0; tries < 50; tries++) {
            int p = free();
            if (p >= 65535) {
                continue;
            }
            try (ServerSocket a = new ServerSocket(p, 1, InetAddress.getLoopbackAddress());
                    ServerSocket b = new ServerSocket(p + 1, 1, InetAddress.getLoopbackAddress())) {
                return p;
            } catch (IOException e) {
                // one of them is taken: try another
            }
        }
        throw new IllegalStateException("no two consecutive free ports on the loopback interface");
    }
}
