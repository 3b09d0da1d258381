package io.xdyna.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What each image of deploy/docker carries, checked against the jars the build resolves for it (the
 * module's {@code target/lib}, which the image copies to /app/lib; run after {@code package}, as
 * {@code mvn verify} does):
 *
 * <ul>
 *   <li>the native code it will load exists for the platform and flavour it selects: DJL PyTorch looks
 *       for {@code jnilib/<classifier>/<flavor>/libdjl_torch.so} in pytorch-jni (offline, nothing can
 *       be downloaded), with {@code PYTORCH_FLAVOR}/{@code PYTORCH_VERSION} from the image's ENV and the
 *       CUDA version of the base image; ONNX Runtime and JavaCPP need their linux-x64 natives;</li>
 *   <li>it carries only its own service's runtime dependencies (no broker, S3 server, CLI, benchmark
 *       or test tools, no other service's engine);</li>
 *   <li>its entrypoint's main class exists, it runs as a numeric non-root user, and its base images
 *       are pinned.</li>
 * </ul>
 */
class ImageContentsTest {
    /** The images are built for linux/amd64: DJL's classifier there. */
    static final String DJL_CLASSIFIER = "linux-x86_64";
    static final String ORT_NATIVE = "ai/onnxruntime/native/linux-x64/libonnxruntime.so";
    static final String JAVACPP_PLATFORM = "linux-x86_64";

    /** Artifacts that belong to no service image. */
    static final List<String> NEVER = List.of("kafka_2.13-", "kafka-server-", "kafka-raft-", "s3proxy-", "jclouds-",
            "xdyna-testkit-", "xdyna-launcher-", "xdyna-bench-", "picocli-", "selenium-", "testcontainers-", "junit-",
            "assertj-");

    /** Per image, engines it must not carry (another service's). */
    static final Map<String, List<String>> NOT_HERE = Map.of(
            "gateway", List.of("pytorch-", "onnxruntime", "tokenizers-", "opencv-", "openblas-", "api-0"),
            "encoder", List.of("pytorch-", "onnxruntime", "tokenizers-", "opencv-", "openblas-", "api-0"),
            "pose-extractor", List.of("pytorch-", "tokenizers-"),
            "animator", List.of("onnxruntime", "opencv-", "openblas-", "ffmpeg-", "javacv-", "pytorch-native-"));

    static List<String> images() {
        return DeploymentFiles.imageNames();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void nativeLibrariesExistForThePlatformAndFlavourTheImageSelects(String name) throws IOException {
        DeploymentFiles.Image image = DeploymentFiles.image(name);
        List<Path> jars = libJars(image);
        List<String> problems = new ArrayList<>();

        Optional<Path> engine = find(jars, "pytorch-engine-");
        if (engine.isPresent()) {
            Path jni = find(jars, "pytorch-jni-").orElse(null);
            Optional<Path> nativeJar = find(jars, "pytorch-native-");
            String libraryPath = image.env().get("PYTORCH_LIBRARY_PATH");
            String flavor = image.env().get("PYTORCH_FLAVOR");
            String version = image.env().get("PYTORCH_VERSION");
            if (libraryPath == null) {
                // DJL extracts libtorch from a pytorch-native-* jar: offline, it must be in the image
                if (nativeJar.isEmpty()) {
                    problems.add("no PYTORCH_LIBRARY_PATH and no pytorch-native-* jar: DJL would download libtorch");
                } else {
                    Properties p = props(nativeJar.get(), "native/lib/pytorch.properties");
                    flavor = flavor != null ? flavor : p.getProperty("flavor");
                    version = version != null ? version : p.getProperty("version").split("-")[0];
                }
            } else {
                if (flavor == null || version == null) {
                    problems.add("PYTORCH_LIBRARY_PATH without PYTORCH_FLAVOR and PYTORCH_VERSION: DJL guesses"
                            + " a flavour (cpu-precxx11 or cu<detected>-precxx11) that pytorch-jni does not carry");
                }
                Matcher base = Pattern.compile("pytorch/pytorch:(\\d+\\.\\d+\\.\\d+)-cuda(\\d+)\\.(\\d+)-.*")
                        .matcher(image.from());
                if (base.matches()) {
                    String baseFlavor = "cu" + base.group(2) + base.group(3);
                    if (!baseFlavor.equals(flavor)) {
                        problems.add("PYTORCH_FLAVOR " + flavor + " but the base image's libtorch is " + baseFlavor);
                    }
                    if (!base.group(1).equals(version)) {
                        problems.add("PYTORCH_VERSION " + version + " but the base image's libtorch is " + base.group(1));
                    }
                } else {
                    problems.add("PYTORCH_LIBRARY_PATH set but the base image " + image.from()
                            + " is not a pytorch/pytorch:<version>-cuda<x.y>-... image whose libtorch it could name");
                }
            }
            if (jni == null) {
                problems.add("pytorch-engine without pytorch-jni");
            } else {
                String entry = "jnilib/" + DJL_CLASSIFIER + "/" + flavor + "/libdjl_torch.so";
                if (!has(jni, entry)) {
                    problems.add("DJL looks for " + entry + " in " + jni.getFileName() + ", which carries only "
                            + flavours(jni) + " (offline: nothing can be downloaded, the animator never loads PyTorch)");
                }
                String jniVersion = props(jni, "jnilib/pytorch.properties").getProperty("jni_version");
                String djl = engine.get().getFileName().toString().replaceAll("pytorch-engine-(.*)\\.jar", "$1");
                if (version != null && !jniVersion.startsWith(version + "-" + djl)) {
                    problems.add("pytorch-jni is " + jniVersion + ", DJL needs " + version + "-" + djl
                            + " and would download another");
                }
            }
        }
        Optional<Path> ort = find(jars, "onnxruntime-1");
        if (ort.isPresent() && !has(ort.get(), ORT_NATIVE)) {
            problems.add(ort.get().getFileName() + " has no " + ORT_NATIVE);
        }
        for (Path j : jars) {
            Matcher m = Pattern.compile("(ffmpeg|opencv|openblas|javacpp)-([\\d.]+-[\\d.]+|[\\d.]+)\\.jar")
                    .matcher(j.getFileName().toString());
            if (m.matches()) {
                String platformJar = m.group(1) + "-" + m.group(2) + "-" + JAVACPP_PLATFORM;
                if (jars.stream().noneMatch(x -> x.getFileName().toString().startsWith(platformJar))) {
                    problems.add(j.getFileName() + " without its " + JAVACPP_PLATFORM + " natives");
                }
            }
        }
        assertThat(problems).as(name + " image (" + image.from() + ", /app/lib from " + image.libModule()
                + "/target/lib)").isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void carriesOnlyItsOwnServicesRuntimeDependencies(String name) throws IOException {
        DeploymentFiles.Image image = DeploymentFiles.image(name);
        assertThat(image.libModule()).as(name + ": /app/lib must be the service module's own runtime classpath")
                .isEqualTo(name);
        List<String> forbidden = new ArrayList<>(NEVER);
        forbidden.addAll(NOT_HERE.get(name));
        List<String> extra = libJars(image).stream().map(p -> p.getFileName().toString())
                .filter(f -> forbidden.stream().anyMatch(f::startsWith)).toList();
        assertThat(extra).as(name + " carries jars of another service or of the tools").isEmpty();
        // the benchmarks live in the bench module, not in the service's own classes (/app/classes)
        Path classes = DeploymentFiles.root().resolve(name).resolve("target/classes");
        try (Stream<Path> s = Files.walk(classes)) {
            List<String> benches = s.filter(Files::isRegularFile).map(p -> classes.relativize(p).toString())
                    .filter(f -> f.contains("/bench/")).toList();
            assertThat(benches).as(name + " classes carry benchmarks").isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("images")
    void runsItsMainClassAsANonRootUserOnPinnedBaseImages(String name) throws IOException {
        DeploymentFiles.Image image = DeploymentFiles.image(name);
        List<String> ep = image.entrypoint();
        assertThat(ep).as(name + " entrypoint").startsWith("java").contains("-cp", "/app/classes:/app/lib/*",
                "-Dai.djl.offline=true");
        String main = ep.get(ep.size() - 1);
        String entry = main.replace('.', '/') + ".class";
        boolean found = Files.exists(DeploymentFiles.root().resolve(image.libModule()).resolve("target/classes")
                .resolve(entry));
        for (Path jar : libJars(image)) {
            found |= has(jar, entry);
        }
        assertThat(found).as(name + " main class " + main + " on /app/classes:/app/lib/*").isTrue();
        assertThat(image.user()).as(name + ": USER must be a numeric non-root uid (runAsNonRoot can verify only"
                + " a number)").isNotNull().matches("[1-9][0-9]*(:[0-9]+)?");
        for (String from : allFroms(name)) {
            assertThat(pinned(from)).as(name + ": base image " + from + " floats (no full version)").isTrue();
        }
    }

    @org.junit.jupiter.api.Test
    void dockerignoreKeepsBuildOutputDataAndRealWeightsOutOfTheBuildContext() throws IOException {
        // what docs/deployment.md (section 1, build context) says it does
        List<String> ignored = Files.readAllLines(DeploymentFiles.root().resolve(".dockerignore")).stream()
                .map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        assertThat(ignored).contains("data/", "**/target/", ".git/", "pretrained_weights/xdyna/",
                "pretrained_weights/dwpose/");
        assertThat(ignored).as("the tiny fixtures must stay in the context (pose-extractor image, dev overlay)")
                .noneMatch(l -> l.equals("pretrained_weights/") || l.contains("tiny"));
    }

    /** An image reference with a full version (x.y.z), a MinIO RELEASE tag or a digest. */
    static boolean pinned(String ref) {
        if (ref.contains("@sha256:")) {
            return true;
        }
        int slash = ref.lastIndexOf('/');
        int colon = ref.indexOf(':', slash + 1);
        if (colon < 0) {
            return false;
        }
        String tag = ref.substring(colon + 1);
        return !tag.equals("latest") && (tag.matches(".*\\d+\\.\\d+\\.\\d+.*") || tag.startsWith("RELEASE."));
    }

    private static List<String> allFroms(String name) throws IOException {
        List<String> out = new ArrayList<>();
        for (String l : Files.readAllLines(DeploymentFiles.root().resolve("deploy/docker/" + name + ".Dockerfile"))) {
            if (l.startsWith("FROM ")) {
                out.add(l.substring(5).trim().split("\\s+")[0]);
            }
        }
        return out;
    }

    static List<Path> libJars(DeploymentFiles.Image image) throws IOException {
        Path lib = DeploymentFiles.root().resolve(image.libModule()).resolve("target/lib");
        assertThat(lib).as(lib + " (made by `mvn package`; run the build to the package phase, as `mvn verify`"
                + " does)").isDirectory();
        try (Stream<Path> s = Files.list(lib)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted().toList();
        }
    }

    private static Optional<Path> find(List<Path> jars, String prefix) {
        return jars.stream().filter(p -> p.getFileName().toString().startsWith(prefix)).findFirst();
    }

    private static boolean has(Path jar, String entry) throws IOException {
        try (ZipFile z = new ZipFile(jar.toFile())) {
            return z.getEntry(entry) != null;
        }
    }

    private static TreeSet<String> flavours(Path jni) throws IOException {
        TreeSet<String> out = new TreeSet<>();
        try (ZipFile z = new ZipFile(jni.toFile())) {
            z.stream().map(ZipEntry::getName).filter(n -> n.startsWith("jnilib/") && !n.endsWith("/"))
                    .map(n -> n.split("/")).filter(p -> p.length == 4).forEach(p -> out.add(p[1] + "/" + p[2]));
        }
        return out;
    }

    private static Properties props(Path jar, String entry) throws IOException {
        try (ZipFile z = new ZipFile(jar.toFile())) {
            ZipEntry e = z.getEntry(entry);
            Properties p = new Properties();
            if (e != null) {
                try (InputStream in = z.getInputStream(e)) {
                    p.load(in);
                }
            }
            return p;
        }
    }
}
