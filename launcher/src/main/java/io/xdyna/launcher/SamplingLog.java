package io.xdyna.launcher;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads how often each job's sampling started from animator logs: the animator logs one line per
 * claim, "job {id}: sampling {n} starts (delivery {d}, ...)" (AnimatorQueue). Used by the soak and
 * the queue drills to prove "sampled exactly once".
 */
final class SamplingLog {
    private static final Pattern LINE = Pattern.compile("job (\\S+): sampling (\\d+) starts \\(delivery (\\d+),");

    /** One start of a job's sampling: its number for the job and the record's delivery count. */
    record Start(int sampling, int delivery) {
    }

    private SamplingLog() {
    }

    /** Per job id, every sampling start found in these logs (missing files are skipped). */
    static Map<String, List<Start>> read(List<Path> logs) throws IOException {
        Map<String, List<Start>> out = new LinkedHashMap<>();
        for (Path log : logs) {
            if (!Files.exists(log)) {
                continue;
            }
            Matcher m = LINE.matcher(Files.readString(log));
            while (m.find()) {
                out.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                        .add(new Start(Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))));
            }
        }
        return out;
    }

    /** The log files of every animator replica of a stack. */
    static List<Path> animatorLogs(LocalStack stack) {
        return stack.services().stream().map(ServiceProcess::name).filter(n -> n.startsWith("animator"))
                .map(stack::logFile).toList();
    }
}
