package io.xdyna.launcher;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.xdyna.contract.event.Events;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The CLI's job commands: submit, status, list, cancel. They talk to a gateway over HTTP. */
final class JobCommands {
    private JobCommands() {
    }

    /** Where the gateway is and who we are: {@code --url}/{@code XDYNA_URL}, {@code --key}/{@code XDYNA_API_KEY}. */
    static class Connection {
        @Option(names = "--url", description = "gateway base URL (env XDYNA_URL, default http://localhost:8080)")
        String url = envOr("XDYNA_URL", "http://localhost:8080");

        @Option(names = "--key", description = "API key (env XDYNA_API_KEY, default the local stack's dev-key)")
        String key = envOr("XDYNA_API_KEY", "dev-key");

        ApiClient client() {
            return new ApiClient(URI.create(url.endsWith("/") ? url : url + "/"), key);
        }

        private static String envOr(String name, String dflt) {
            String v = System.getenv(name);
            return v == null || v.isBlank() ? dflt : v;
        }
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Submit a job: reference image + driving video; optionally wait and download the MP4.")
    static final class Submit extends Connection implements Callable<Integer> {
        @Parameters(index = "0", description = "reference image")
        Path reference;

        @Parameters(index = "1", description = "driving video")
        Path driving;

        @Option(names = "--pose", description = "pre-rendered pose video (X-Dyna style)")
        Path pose;

        @Option(names = "--width") Integer width;
        @Option(names = "--height") Integer height;
        @Option(names = "--length", description = "frames to generate") Integer length;
        @Option(names = "--stride") Integer stride;
        @Option(names = "--fps") Double fps;
        @Option(names = "--steps") Integer steps;
        @Option(names = "--cfg") Double cfg;
        @Option(names = "--seed") Long seed;
        @Option(names = "--prompt") String prompt;
        @Option(names = "--negative-prompt") String negativePrompt;
        @Option(names = "--face-control", negatable = true) Boolean faceControl;
        @Option(names = "--align-pose", negatable = true) Boolean alignPose;

        @Option(names = "--quick", description = "when the stages run on the tiny fixture bundles: the quick demo"
                + " size the gateway suggests (about a minute on a CPU) for every size option not given")
        boolean quick;

        @Option(names = "--wait", description = "wait for the job to finish, showing progress")
        boolean await;

        @Option(names = {"-o", "--output"}, description = "with --wait: where to save the result MP4")
        Path output;

        @Override
        public Integer call() throws Exception {
            ObjectNode params = Events.MAPPER.createObjectNode();
            putIf(params, "width", width);
            putIf(params, "height", height);
            putIf(params, "length", length);
            putIf(params, "stride", stride);
            putIf(params, "fps", fps);
            putIf(params, "steps", steps);
            putIf(params, "cfg", cfg);
            putIf(params, "seed", seed);
            putIf(params, "prompt", prompt);
            putIf(params, "negativePrompt", negativePrompt);
            putIf(params, "faceControl", faceControl);
            putIf(params, "alignPose", alignPose);
            ApiClient api = client();
            fixtureNotice(api, params);
            JsonNode job;
            try {
                job = api.submit(reference, driving, pose, params.isEmpty() ? null : params.toString());
            } catch (ApiClient.ApiException e) {
                System.err.println("rejected: " + e.getMessage());
                return 2;
            }
            String id = job.get("id").asText();
            System.out.println(id);
            if (!await) {
                return 0;
            }
            JsonNode s = Watch.untilDone(api, id);
            if (!"SUCCEEDED".equals(s.path("state").asText())) {
                System.err.println("job " + id + " ended " + s.path("state").asText() + ": "
                        + s.path("error").path("code").asText("") + " " + s.path("error").path("message").asText(""));
                return 1;
            }
            if (output != null) {
                api.download(id, output);
                System.out.println("saved " + output);
            }
            return 0;
        }

        /**
         * On fixture bundles, says so before the job starts (its output is noise, and X-Dyna's default size
         * takes many minutes on a CPU) and, with --quick, fills in the quick demo size.
         */
        private void fixtureNotice(ApiClient api, ObjectNode params) throws IOException, InterruptedException {
            JsonNode info;
            try {
                info = api.info();
            } catch (ApiClient.ApiException e) {
                return; // a gateway without /v1/info
            }
            if (!info.path("fixtures").asBoolean()) {
                return;
            }
            System.err.println("note: " + info.path("notice").asText());
            JsonNode demo = info.path("quickDemo");
            if (quick) {
                demo.fields().forEachRemaining(f -> {
                    if (!params.has(f.getKey())) {
                        params.set(f.getKey(), f.getValue());
                    }
                });
            } else if (width == null && height == null && length == null && steps == null) {
                System.err.println("hint: --quick submits the quick demo size " + demo + " instead of X-Dyna's"
                        + " defaults");
            }
        }

        private static void putIf(ObjectNode n, String k, Object v) {
            if (v != null) {
                n.set(k, Events.MAPPER.valueToTree(v));
            }
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a job's status.")
    static final class Status extends Connection implements Callable<Integer> {
        @Parameters(index = "0", description = "job id")
        String id;

        @Option(names = "--wait", description = "follow progress until the job ends")
        boolean await;

        @Override
        public Integer call() throws Exception {
            JsonNode s = await ? Watch.untilDone(client(), id) : client().status(id);
            System.out.println(Events.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(s));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List your jobs, newest first.")
    static final class ListJobs extends Connection implements Callable<Integer> {
        @Option(names = "--state", description = "only jobs in this state") String state;
        @Option(names = "--limit", defaultValue = "20") int limit;

        @Override
        public Integer call() throws Exception {
            JsonNode page = client().list(state, limit);
            JsonNode jobs = page.has("jobs") ? page.get("jobs") : page;
            for (JsonNode j : jobs) {
                System.out.printf("%-24s %-10s %5.1f%%  %s%n", j.path("id").asText(), j.path("state").asText(),
                        100 * j.path("progress").asDouble(), j.path("updatedAt").asText());
            }
            return 0;
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a job.")
    static final class Cancel extends Connection implements Callable<Integer> {
        @Parameters(index = "0", description = "job id")
        String id;

        @Override
        public Integer call() throws Exception {
            JsonNode s = client().cancel(id);
            System.out.println(s.path("state").asText("CANCELLED"));
            return 0;
        }
    }

    /** Polls a job and draws a one-line progress bar until it ends. */
    static final class Watch {
        private Watch() {
        }

        static JsonNode untilDone(ApiClient api, String id) throws Exception {
            while (true) {
                JsonNode s = api.status(id);
                String state = s.path("state").asText();
                double p = s.path("progress").asDouble();
                int filled = (int) Math.round(p * 30);
                System.err.printf("\r%-10s [%s%s] %5.1f%% %s", state, "#".repeat(filled), ".".repeat(30 - filled),
                        100 * p, trim(s.path("message").asText("")));
                if (state.equals("SUCCEEDED") || state.equals("FAILED") || state.equals("CANCELLED")) {
                    System.err.println();
                    return s;
                }
                Thread.sleep(1000);
            }
        }

        private static String trim(String s) {
            return s.length() > 40 ? s.substring(0, 40) : String.format("%-40s", s);
        }
    }
}
