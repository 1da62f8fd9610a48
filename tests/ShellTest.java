import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;
import support.Repo;
import support.Repo.Result;

/** `./jbang shell` opens JShell with the lib on the class path and `import llm.*;` already done. */
class ShellTest {

    @Test
    void jshellSeesTheLibrary() {
        String snippets = """
                System.out.println("palette=" + TokenColors.PALETTE.get(0));
                try (var gpt2 = Tokenizers.load("gpt2")) { System.out.println("ids=" + java.util.Arrays.toString(gpt2.encode("Hello World!"))); }
                /exit
                """;
        Result run = Repo.jbang(Map.of(), snippets.getBytes(StandardCharsets.UTF_8), "shell", "-q");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("palette=102;194;165"), run.all());
        assertTrue(run.stdout().contains("ids=[15496, 2159, 0]"), run.all());
    }
}
