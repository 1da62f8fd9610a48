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
            failed.getErr().println(failed.getCommandName() + ": " + oneLine(e));
            return 2;
        });
        return cli;
    }

    /** Parses {@code args}, runs the command and returns its exit code. */
    public static int run(Object command, String... args) {
        return commandLine(command).execute(args);
    }

    private static String oneLine(Throwable e) {
        String message = e.getMessage();
        if (message == null || message.isBlank()) message = e.getClass().getSimpleName();
        return message.lines().findFirst().orElse(message);
    }
}
