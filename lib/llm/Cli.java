//DEPS info.picocli:picocli:4.7.7
package llm;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * How every script reacts to what the learner typed: a wrong option prints the problem and the
 * usage and exits 2; a problem while running (a missing file, a bad model) prints one line and
 * exits 2. Nobody sees a stack trace.
 */
public final class Cli {

    private Cli() {}

    /** A picocli command line with the playground's conventions. */
    public static CommandLine commandLine(Object command) {
        CommandLine cli = new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((e, args) -> {
            CommandLine failed = e.getCommandLine();
            PrintWriter err = failed.getErr();
            err.println(failed.getCommandName() + ": " + e.getMessage());
            failed.usage(err, failed.getColorScheme());
            return 2;
        });
        cli.setExecutionExceptionHandler((e, failed, parseResult) -> {
            failed.getErr().println(failed.getCommandSpec().root().name() + ": " + message(e));
            return 2;
        });
        return cli;
    }

    /** Parses {@code args}, runs the command and returns its exit code. */
    public static int run(Object command, String... args) {
        return commandLine(command).execute(args);
    }

    /** Our exceptions carry a message written for the learner (a line, at most a short paragraph). */
    private static String message(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
