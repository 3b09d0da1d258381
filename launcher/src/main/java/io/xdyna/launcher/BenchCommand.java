package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import io.xdyna.gateway.bench.GatewayBench;
import io.xdyna.shared.config.CommonConfig;
import io.xdyna.shared.config.Env;
import io.xdyna.shared.kafka.KafkaSetup;
import io.xdyna.shared.storage.ObjectStore;
import io.xdyna.testkit.RealInfra;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code xdyna bench <what> [args]}: prints figures. {@code stack} measures the local stack's start
 * time and one tiny job end to end; the others run the modules' own benchmarks.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures: stack | memory | animator | animator-job | encoder | pose | gateway")
final class BenchCommand implements Callable<Integer> {
    static final Map<String, String> MODULE_BENCHES = Map.of(
            "animator", "io.xdyna.animator.bench.AnimatorBench",
            "animator-job", "io.xdyna.animator.bench.AnimatorJobBench",
            "encoder", "io.xdyna.encoder.bench.EncoderBench",
            "pose", "io.xdyna.pose.bench.PoseBench",
            "gateway", "io.xdyna.gateway.bench.GatewayBench");

    @Parameters(index = "0", description = "stack, memory, animator, animator-job, encoder, pose or gateway")
    String what;

    @Parameters(index = "1..*", description = "arguments for the module benchmark")
    String[] args = new String[0];

    @Override
    public Integer call() throws Exception {
        if (what.equals("stack")) {
            return stack();
        }
        if (what.equals("memory")) {
            return MemoryBench.run(args);
        }
        if (what.equals("gateway") && System.getenv("KAFKA_BOOTSTRAP_SERVERS") == null) {
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
        String main = MODULE_BENCHES.get(what);
        if (main == null) {
            System.err.println("unknown benchmark '" + what + "'; choose stack, memory, " + String.join(", ",
                    MODULE_BENCHES.keySet()));
            return 2;
        }
        Class<?> bench = Class.forName(main);
        try {
            // a benchmark with an exit status: non-zero when a side could not run
            Method run = bench.getMethod("run", String[].class);
            if (run.getReturnType() == int.class) {
                return (Integer) run.invoke(null, (Object) args);
            }
        } catch (NoSuchMethodException e) {
            // main only
        }
        bench.getMethod("main", String[].class).invoke(null, (Object) args);
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
            stack.awaitAllReady(java.time.Duration.ofMinutes(3));
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
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (Exception e) {
            // temp data: best effort
        }
    }
}
