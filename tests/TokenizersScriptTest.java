import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import support.Repo;
import support.Repo.Result;

/** `./jbang tokenizers` run as a learner runs it: through the wrapper, the catalog alias and a fresh JVM. */
class TokenizersScriptTest {

    @Test
    void theCourseRunShowsHelloWorldThenEveryShippedTokenizerAndReportsTheOthers() {
        Result run = Repo.jbang("tokenizers");
        assertEquals(0, run.exitCode(), run.all());
        String out = run.stdout();
        assertTrue(out.contains("ids:    [101, 8667, 1291, 106, 102]"), out);
        assertTrue(out.contains("tokens: [CLS]|Hello|World|!|[SEP]"), out);
        assertTrue(out.contains("== bert-base-cased\nVocabulary length: 28996\n[CLS]|English|and|CA|##PI|##TA|##L|##I|##Z|##AT|##ION|[UNK]|[UNK]|show"), out);
        assertTrue(out.contains("== gpt2\nVocabulary length: 50257\n\\n|English| and| CAP|ITAL|IZ|ATION|\\n|�|�|�| �|�|�|\\n|show|_|t|ok|ens"), out);
        for (String shipped : List.of("bert-base-uncased\nVocabulary length: 30522", "Xenova/gpt-4\nVocabulary length: 100263",
                "google/flan-t5-small\nVocabulary length: 32100", "microsoft/Phi-3-mini-4k-instruct\nVocabulary length: 32011")) {
            assertTrue(out.contains("== " + shipped), shipped + " missing in:\n" + out);
        }
        // The two the course uses that we can't ship: one line each, and the run goes on.
        assertTrue(out.contains("bigcode/starcoder2-15b: not available (not shipped with the playground; "), out);
        assertTrue(out.contains("Qwen/Qwen2-VL-7B-Instruct: not available (not shipped with the playground; "), out);
        assertTrue(out.indexOf("bigcode/starcoder2-15b: not available") < out.indexOf("== microsoft/Phi-3-mini-4k-instruct"), out);
        assertFalse(out.contains("\u001b["), "no colour when stdout is not a terminal");
        assertFalse(run.stderr().contains("Exception"), run.stderr());
    }

    @Test
    void colourAlwaysUsesTheNotebooksEscapes() {
        Result run = Repo.jbang("tokenizers", "--color=always", "--model", "gpt2", "Hello World!");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("\u001b[48;2;102;194;165mHello\u001b[0m \u001b[48;2;252;141;98m World\u001b[0m \u001b[48;2;141;160;203m!\u001b[0m "),
                run.stdout());
    }

    @Test
    void noColorWinsOverAuto() {
        Result run = Repo.jbang(Map.of("NO_COLOR", "1"), null, "tokenizers", "--model", "gpt2", "--ids", "Hello World!");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("Hello| World|!\n15496|2159|0\n"), run.stdout());
    }

    @Test
    void jsonGivesOneObjectPerModel() {
        Result run = Repo.jbang("tokenizers", "--format=json", "--model", "bert-base-cased", "--model", "microsoft/Phi-3-mini-4k-instruct",
                "The capital of France is");
        assertEquals(0, run.exitCode(), run.all());
        List<String> lines = run.stdout().lines().toList();
        assertEquals(2, lines.size(), run.stdout());
        JsonObject phi3 = JsonParser.parseString(lines.get(1)).getAsJsonObject();
        assertEquals("microsoft/Phi-3-mini-4k-instruct", phi3.get("model").getAsString());
        assertEquals(32011, phi3.get("vocab_length").getAsInt());
        assertEquals("[450,7483,310,3444,338]", phi3.get("ids").toString());
        assertEquals("[\"The\",\"capital\",\"of\",\"France\",\"is\"]", phi3.get("tokens").toString());
        assertEquals("bert-base-cased", JsonParser.parseString(lines.get(0)).getAsJsonObject().get("model").getAsString());
    }

    @Test
    void stdinIsReadWithADash() {
        Result run = Repo.jbang(Map.of(), "12.0*50=600".getBytes(StandardCharsets.UTF_8), "tokenizers", "--model", "gpt2", "-");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("12|.|0|*|50|=|600"), run.stdout());
    }

    @Test
    void badInputGivesOneClearLineAndExit2() {
        Result unknownOption = Repo.jbang("tokenizers", "--colour=always");
        assertEquals(2, unknownOption.exitCode(), unknownOption.all());
        assertTrue(unknownOption.stderr().contains("tokenizers: Unknown option: '--colour=always'"), unknownOption.stderr());
        assertTrue(unknownOption.stderr().contains("Usage: tokenizers"), unknownOption.stderr());

        Result unknownModel = Repo.jbang("tokenizers", "--model", "nobody/no-such-model", "hi");
        assertEquals(2, unknownModel.exitCode(), unknownModel.all());
        assertTrue(unknownModel.stdout().contains("nobody/no-such-model: not available (not shipped with the playground; "), unknownModel.all());
        assertTrue(unknownModel.stdout().contains("give its path instead of the id"), unknownModel.all());

        Result empty = Repo.jbang("tokenizers", "");
        assertEquals(2, empty.exitCode(), empty.all());
        assertEquals(List.of("tokenizers: the text is empty: give some text, or - to read it from stdin"), empty.errorLines());

        Result notUtf8 = Repo.jbang(Map.of(), new byte[] {(byte) 0xC3, (byte) 0x28, 'a'}, "tokenizers", "-");
        assertEquals(2, notUtf8.exitCode(), notUtf8.all());
        assertEquals(List.of("tokenizers: stdin is not valid UTF-8 text"), notUtf8.errorLines());

        for (Result r : List.of(unknownOption, unknownModel, empty, notUtf8)) {
            assertFalse(r.all().contains("Exception"), r.all());
            assertFalse(r.all().contains("\tat "), r.all());
        }
    }

    @Test
    void helpExitsZero() {
        Result help = Repo.jbang("tokenizers", "--help");
        assertEquals(0, help.exitCode(), help.all());
        assertTrue(help.stdout().contains("--model=ID|PATH"), help.stdout());
    }
}
