package io.xdyna.launcher;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JVM's AppCDS archives for the local stack's child JVMs (services, Kafka broker), in
 * {@code data/cds}: a JVM's first start runs with {@code -XX:ArchiveClassesAtExit}, so that when it is
 * stopped it writes the classes it loaded (parsed and verified) into an archive; every later start maps
 * it with {@code -XX:SharedArchiveFile} and skips that work. Archives are named after the main class
 * and a digest of the Java installation and of every jar on the classpath (path, size, modification
 * time), so a rebuild or another JDK makes new ones. A file the JVM cannot use is ignored by it
 * ({@code -Xshare:auto}, with a warning in the log), never fatal.
 */
final class ClassDataSharing {
    private static final Logger LOG = LoggerFactory.getLogger(ClassDataSharing.class);

    private final Path dir;

    ClassDataSharing(Path dir) {
        this.dir = dir;
    }

    /** The folder for the archives when this JVM's classpath is jars only (the JVM archives no folder); else null. */
    static Path folderIfArchivable(Path dir) {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (!entry.endsWith(".jar") || !Files.isRegularFile(Path.of(entry))) {
                return null;
            }
        }
        return dir;
    }

    /** One child JVM's archive: the options of its next start, and the archive to keep once it has stopped. */
    final class Use {
        final List<String> jvmOptions;
        private final Path writing;

        private Use(List<String> jvmOptions, Path writing) {
            this.jvmOptions = jvmOptions;
            this.writing = writing;
        }

        /** After a graceful stop: the archive the JVM wrote at exit becomes the one later starts map. */
        void keep() {
            if (writing == null || !Files.isRegularFile(writing)) {
                return;
            }
            String file = writing.getFileName().toString();
            Path archive = writing.resolveSibling(file.substring(0, file.indexOf(".jsa.") + 4));
            try {
                Files.move(writing, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                LOG.info("class-data sharing archive {} kept for the next start", archive);
                // the same main class's archives of earlier builds are never mapped again (about 50 MB each)
                String main = archive.getFileName().toString();
                String prefix = main.substring(0, main.lastIndexOf('-') + 1);
                try (var old = Files.list(dir)) {
                    for (Path p : old.filter(p -> p.getFileName().toString().startsWith(prefix)
                            && p.getFileName().toString().endsWith(".jsa") && !p.equals(archive)).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            } catch (IOException e) {
                LOG.warn("cannot keep the class-data sharing archive {}: {}", writing, e.toString());
            }
        }
    }

    /**
     * The archive of {@code mainClass} for the JVM called {@code name}: map it when it exists, else
     * write it at exit (to a file of this name's own, renamed by {@link Use#keep}).
     */
    Use use(String mainClass, String name) throws IOException {
        Files.createDirectories(dir);
        Path archive = archive(mainClass);
        if (Files.isRegularFile(archive)) {
            return new Use(List.of("-XX:SharedArchiveFile=" + archive), null);
        }
        Path writing = archive.resolveSibling(archive.getFileName() + "." + name + ".tmp");
        Files.deleteIfExists(writing);
        // the dump lists every class it cannot archive as a warning: not news for the service's log
        return new Use(List.of("-XX:ArchiveClassesAtExit=" + writing, "-Xlog:cds=off", "-Xlog:cds+dynamic=off"),
                writing);
    }

    /** The archive of {@code mainClass} on this Java installation and this classpath. */
    Path archive(String mainClass) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        md.update((System.getProperty("java.home") + '\0' + System.getProperty("java.vm.version") + '\0')
                .getBytes(StandardCharsets.UTF_8));
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path jar = Path.of(entry);
            String stamp = Files.exists(jar) ? Files.size(jar) + "\0" + Files.getLastModifiedTime(jar).toMillis()
                    : "missing";
            md.update((entry + '\0' + stamp + '\0').getBytes(StandardCharsets.UTF_8));
        }
        String digest = HexFormat.of().formatHex(md.digest(), 0, 8);
        return dir.resolve(mainClass.substring(mainClass.lastIndexOf('.') + 1) + "-" + digest + ".jsa");
    }
}
