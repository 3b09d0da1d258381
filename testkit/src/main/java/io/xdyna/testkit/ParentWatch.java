package io.xdyna.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * Child-JVM entry point used by {@link JavaProcess#dieWithParent}: {@code ParentWatch <mainClass>
 * <args...>} runs {@code mainClass} and exits as soon as its stdin reaches end of file, which
 * happens when the parent process dies in any way (the kernel closes the pipe). Without it, a test
 * JVM killed by a timeout would leave a Kafka broker running forever.
 */
public final class ParentWatch {
    private ParentWatch() {
    }

    public static void main(String[] args) throws Throwable {
        if (args.length == 0) {
            System.err.println("usage: ParentWatch <mainClass> [args...]");
            System.exit(2);
        }
        Thread watcher = new Thread(() -> {
            try (InputStream in = System.in) {
                byte[] buf = new byte[256];
                while (in.read(buf) >= 0) {
                    // the parent never writes; anything read is ignored
                }
            } catch (IOException e) {
                // a broken pipe means the same as end of file
            }
            System.err.println("ParentWatch: parent process is gone, exiting");
            System.exit(143);
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        try {
            main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
