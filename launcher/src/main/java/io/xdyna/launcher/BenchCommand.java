package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.bench.animator.AnimatorBench;
import io.xdyna.bench.animator.AnimatorJobBench;
import io.xdyna.bench.encoder.EncoderBench;
import io.xdyna.bench.gateway.GatewayBench;
import io.xdyna.bench.pose.PoseBench;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.RealInfra;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code xdyna bench <what> [args]}: prints figures. {@code stack} measures the local stack's start
 * time and one tiny job end to end; the others run the services' benchmarks (module xdyna-bench).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures: stack | memory | animator | animator-job | split | encoder | pose"
                + " | gateway")
final class BenchCommand implements Callable<Integer> {
    /** A benchmark run with the command's remaining arguments; returns the exit status. */
    @FunctionalInterface
    interface Bench {
        int run(String[] args) throws Exception;
    }

    @Parameters(index = "0", description = "stack, memory, animator, animator-job, split, encoder, pose or gateway")
    String what;

    @Parameters(index = "1..*", description = "arguments for the module benchmark")
    String[] args = new String[0];

    /** Every benchmark by name, in the order the help lists them. */
    Map<String, Bench> benches() {
        Map<String, Bench> benches = new LinkedHashMap<>();
        benches.put("stack", a -> stack());
        benches.put("memory", MemoryBench::run);
        benches.put("animator", AnimatorBench::run);
        benches.put("animator-job", AnimatorJobBench::run);
        benches.put("split", SplitBench::run);
        benches.put("encoder", EncoderBench::run);
        benches.put("pose", PoseBench::run);
        benches.put("gateway", this::gateway);
        return benches;
    }

    @Override
    public Integer call() throws Exception {
        Map<String, Bench> benches = benches();
        Bench bench = benches.get(what);
        if (bench == null) {
            System.err.println("unknown benchmark '" + what + "'; choose " + String.join(", ", benches.keySet()));
            return 2;
        }
        return bench.run(args);
    }

    /** The gateway's benchmark on the stack the environment names, or on a real broker and S3 server of its own. */
    private int gateway(String[] args) throws Exception {
        if (System.getenv("KAFKA_BOOTSTRAP_SERVERS") != null) {
            return GatewayBench.run(args);
        }
        // no stack given: bring a real broker and S3 server up for the run
        CommonConfig c = CommonConfig.from(new Env(RealInfra.shared().newEnvironment("bench-gateway")));
        KafkaSetup.ensureTopics(c.kafkaBootstrap(), c.topics(), 3, (short) 1);
        try (ObjectStore store = new ObjectStore(c)) {
            store.ensureBucket();
        }
        GatewayBench.run(c, arg(0, 32), arg(1, 10), arg(2, 2000), arg(3, 20), arg(4, 100),
                args.length > 5 ? args[5] : "128m");
        return 0;
    }

    private int arg(int i, int dflt) {
        return args.length > i ? Integer.parseInt(args[i]) : dflt;
    }

    /** Starts a throw-away local stack on free ports, runs one tiny job through it, prints the times. */
    private int stack() throws Exception {
        Path root = Xdyna.root();
        Path data = Files.createTempDirectory("xdyna-bench");
        Path examples = root.resolve("../shared/examples").normalize();
        long t0 = System.nanoTime();
        try (LocalStack stack = new LocalStack(LocalStack.Settings.throwaway(root, data, 1))) {
            stack.start();
            stack.awaitAllReady(Duration.ofMinutes(3));
            long up = System.nanoTime();
            ApiClient api = stack.api();
            String params = "{\"width\":256,\"height\":448,\"length\":16,\"stride\":2,\"steps\":4}";
            long s0 = System.nanoTime();
            String id = api.submit(examples.resolve("example_1_reference.jpg"),
                    examples.resolve("example_1_driving.mp4"), null, params).get("id").asText();
            JsonNode end;
            while (true) {
                end = api.status(id);
                String st = end.get("state").asText();
                if (st.equals("SUCCEEDED") || st.equals("FAILED") || st.equals("CANCELLED")) {
                    break;
                }
                Thread.sleep(200);
            }
            long done = System.nanoTime();
            System.out.printf("local stack start (broker, store, 4 services ready): %.1f s%n", (up - t0) / 1e9);
            System.out.printf("tiny job end to end (%s, tiny bundles, CPU): %.1f s -> %s%n", params,
                    (done - s0) / 1e9, end.get("state").asText());
            return end.get("state").asText().equals("SUCCEEDED") ? 0 : 1;
        } finally {
            deleteQuietly(data);
        }
    }

    static void deleteQuietly(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception e) {
            // temp data: best effort
        }
    }
}
