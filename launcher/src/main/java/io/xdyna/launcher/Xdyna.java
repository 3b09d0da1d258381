package io.xdyna.launcher;

import io.xdyna.shared.config.Env;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code xdyna} command. */
@Command(name = "xdyna", mixinStandardHelpOptions = true, version = "xdyna 0.1.0",
        description = "X-Dyna human image animation as a service.",
        subcommands = {Xdyna.Local.class, JobCommands.Submit.class, JobCommands.Status.class,
            JobCommands.ListJobs.class, JobCommands.Cancel.class, BenchCommand.class, SoakCommand.class})
public final class Xdyna implements Callable<Integer> {

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with its error handling: a refused request or a missing file is one line, not a trace. */
    static CommandLine commandLine() {
        return new CommandLine(new Xdyna()).setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("xdyna " + cmd.getCommandName() + ": " + e.getMessage());
            return e instanceof ApiClient.ApiException api && api.status() < 500 ? 2 : 1;
        });
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, System.out);
        return 0;
    }

    /** The repository root: set by the ./xdyna script, else the working directory. */
    static Path root() {
        String r = System.getProperty("xdyna.root");
        return (r != null ? Path.of(r) : Path.of("")).toAbsolutePath();
    }

    /** {@code xdyna local}: the whole system on this machine. */
    @Command(name = "local", description = "Run broker, object store, the four services and the web app locally "
            + "(data under ./data). Environment: XDYNA_HTTP_PORT, XDYNA_MODEL_DIR, XDYNA_POSE_MODEL_DIR, ...")
    static final class Local implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Path root = Xdyna.root();
            LocalStack stack = new LocalStack(LocalStack.Settings.from(Env.system(), root));
            try {
                stack.start();
            } catch (Exception e) {
                System.err.println("xdyna local: could not start: " + e.getMessage());
                stack.close();
                return 1;
            }
            System.out.println(stack.banner());
            stack.runUntilStopped();
            return 0;
        }
    }
}
