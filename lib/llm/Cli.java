//DEPS info.picocli:picocli:4.7.7
package llm;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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

    /** All of standard input as text; bytes that are not UTF-8 are refused rather than turned into �. */
    public static String readStdin() {
        return readUtf8(System.in, "stdin");
    }

    static String readUtf8(InputStream in, String what) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(in.readAllBytes())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(what + " is not valid UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + what + ": " + e.getMessage(), e);
        }
    }

    /** Our exceptions carry a message written for the learner (a line, at most a short paragraph). */
    private static String message(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }
}
