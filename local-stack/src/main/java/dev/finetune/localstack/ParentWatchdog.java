package dev.finetune.localstack;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Entry point of a child server process: starts the real main class given as the first argument
 * and exits when the parent goes away (the parent's end of our stdin closes when it dies, even on
 * {@code kill -9}), so no orphaned server keeps a port.
 */
public final class ParentWatchdog {
    private ParentWatchdog() {}

    public static void main(String[] args) throws Exception {
        Thread watcher = new Thread(ParentWatchdog::exitWhenParentDies, "parent-watchdog");
        watcher.setDaemon(true);
        watcher.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }

    private static void exitWhenParentDies() {
        try (InputStream in = System.in) {
            while (in.read() >= 0) {
                // the parent never writes; read() returns -1 once its end is closed
            }
        } catch (IOException e) {
            // a broken pipe means the same as end of stream
        }
        Runtime.getRuntime().halt(0);
    }

    /** The class path entry (jar or classes directory) that holds this class. */
    public static String codeLocation() {
        try {
            return Path.of(ParentWatchdog.class
                            .getProtectionDomain()
                            .getCodeSource()
                            .getLocation()
                            .toURI())
                    .toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException("cannot locate the local-stack classes", e);
        }
    }
}
