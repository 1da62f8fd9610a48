import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import support.Repo;
import support.Repo.Result;

/**
 * Every alias in the catalog, driven from the command line the way a learner mistypes it: --help
 * works, an unknown option gives the problem, the usage and exit 2, and invalid values give one line
 * and exit 2. Never a stack trace.
 */
class CommandLinesTest {

    /** The aliases that run a lesson or assignment script (not the test runner or the shell). */
    static List<String> scriptAliases() throws IOException {
        var aliases = JsonParser.parseString(Files.readString(Repo.root().resolve("jbang-catalog.json")))
                .getAsJsonObject().getAsJsonObject("aliases");
        List<String> names = new ArrayList<>();
        for (String name : aliases.keySet()) {
            String script = aliases.getAsJsonObject(name).get("script-ref").getAsString();
            if (script.startsWith("scripts/") && !script.endsWith("Shell.java")) names.add(name);
        }
        return names;
    }

    static Stream<String> aliases() throws IOException {
        return scriptAliases().stream();
    }

    @ParameterizedTest
    @MethodSource("aliases")
    void helpExitsZeroAndAnUnknownOptionPrintsUsageAndExits2(String alias) {
        Result help = Repo.jbang(alias, "--help");
        assertEquals(0, help.exitCode(), help.all());
        assertTrue(help.stdout().contains("Usage: "), help.stdout());

        Result unknown = Repo.jbang(alias, "--no-such-option");
        assertEquals(2, unknown.exitCode(), unknown.all());
        List<String> errors = unknown.errorLines();
        assertTrue(errors.stream().anyMatch(l -> l.contains("Unknown option: '--no-such-option'")), unknown.all());
        assertTrue(errors.stream().anyMatch(l -> l.startsWith("Usage: ")), unknown.all());
        assertNoStackTrace(unknown);
    }

    static Stream<Arguments> invalidValues() {
        return Stream.of(
                Arguments.of(List.of("phi3", "generate", "--temperature", "-1", "Hi"), "--temperature must be 0 or more, got -1.0"),
                Arguments.of(List.of("phi3", "generate", "--temperature", "0.7", "--top-p", "0", "Hi"), "--top-p must be in (0, 1], got 0.0"),
                Arguments.of(List.of("phi3", "generate", "--temperature", "0.7", "--top-p", "1.5", "Hi"), "--top-p must be in (0, 1], got 1.5"),
                Arguments.of(List.of("phi3", "generate", "--max-tokens", "0", "Hi"), "--max-tokens must be at least 1, got 0"),
                Arguments.of(List.of("phi3", "--threads", "0", "generate", "Hi"), "--threads must be at least 1, got 0"),
                Arguments.of(List.of("phi3", "--model", "no/such/file.gguf.part", "inspect"), "no/such/file.gguf.part: no such model file"),
                Arguments.of(List.of("phi3", "generate", "--temperature", "warm", "Hi"), "Invalid value for option '--temperature': 'warm' is not a float"),
                Arguments.of(List.of("tokenizers", "--model", "missing/tokenizer.json", "Hi"), "missing/tokenizer.json: no such file"));
    }

    @ParameterizedTest
    @MethodSource("invalidValues")
    void invalidValuesGiveOneLineAndExit2(List<String> args, String expected) {
        Result run = Repo.jbang(args.toArray(String[]::new));
        assertEquals(2, run.exitCode(), run.all());
        assertTrue(run.all().contains(expected), "expected <" + expected + "> in:\n" + run.all());
        assertNoStackTrace(run);
    }

    static void assertNoStackTrace(Result run) {
        assertFalse(run.all().contains("\tat "), run.all());
        assertFalse(run.all().matches("(?s).*Exception in thread.*"), run.all());
    }
}
