package io.xdyna.shared.service;

/** Closing a service's clients on shutdown. */
public final class Resources {
    private Resources() {
    }

    /**
     * Closes each non-null resource in the order given (consumers before the producer and store they
     * use), all of them even if one fails; then rethrows the first failure.
     */
    public static void closeAll(AutoCloseable... resources) {
        RuntimeException first = null;
        for (AutoCloseable r : resources) {
            if (r == null) {
                continue;
            }
            try {
                r.close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException re ? re : new IllegalStateException("closing " + r, e);
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
