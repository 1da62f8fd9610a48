import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.Repo;
import support.Repo.Result;
import support.TestModels;

/**
 * Lessons 0-4 run as a learner runs them: `./jbang ALIAS` through the wrapper and the catalog, in a
 * fresh JVM, with stdout not a terminal (so plain output). Lesson 2's word vectors are cached in a
 * folder of the test machine's temp dir, so only the first run ever trains (about 10-20 s).
 */
class LessonScriptsTest {

    static final Map<String, String> ENV = Map.of("TRANSFORMER_PLAYGROUND_CACHE",
            Path.of(System.getProperty("java.io.tmpdir"), "playground-test-cache").toString());

    static Result run(String... args) {
        return Repo.jbang(ENV, null, args);
    }

    static void assertClean(Result r) {
        assertFalse(r.all().contains("Exception"), r.all());
        assertFalse(r.all().contains("\tat "), r.all());
    }

    @Test
    void intro() {
        Result r = run("intro");
        assertEquals(0, r.exitCode(), r.all());
        String out = r.stdout();
        for (String alias : List.of("intro", "bag-of-words", "embeddings", "attention", "transformers", "tokenizers",
                "architecture", "block", "self-attention", "phi3", "rope", "moe"))
            assertTrue(out.contains("./jbang " + alias + "\n"), alias + " missing in:\n" + out);
        assertTrue(out.contains("   5  Tokenizers"), out);
        assertTrue(out.contains("  11  Mixture of experts"), out);
        // The shipped Phi-3 tokenizer on the default sentence (ids as in the course notebook's tokenizer).
        assertTrue(out.contains("            The|capital|of|France|is\n"), out);
        assertTrue(out.contains("[450, 7483, 310, 3444, 338]   shape [1, 5]"), out);
        assertTrue(out.contains("shape [1, 5, 3072]"), out);
        assertTrue(out.contains("shape [1, 5, 32064]"), out);
        assertTrue(out.contains("Phi-3-mini: 3.82B parameters"), out);
        assertFalse(out.contains("\u001b["), "plain output when stdout is not a terminal");
        assertClean(r);
    }

    @Test
    void bagOfWords() {
        Result r = run("bag-of-words");
        assertEquals(0, r.exitCode(), r.all());
        String out = r.stdout();
        assertTrue(out.contains("  7 words: that is a cute dog my cat\n"), out);
        assertTrue(out.contains("  That is a cute dog     1   1  1     1    1   0    0\n"), out);
        assertTrue(out.contains("  My cat is cute         0   1  0     1    0   1    1\n"), out);
        // By hand: "is" and "cute" shared, 2 / (√5 · √4) = 0.447.
        assertTrue(out.contains("cosine = 2 / (2.236 × 2.000) = 0.447"), out);
        assertTrue(out.contains("\"dog bites man\" [1, 1, 1] and \"man bites dog\" [1, 1, 1]  ->  cosine 1.000"), out);
        assertTrue(out.contains("\"cute\" [1, 0] and \"adorable\" [0, 1]  ->  cosine 0.000"), out);
        assertTrue(out.contains("That| is| a| cute| dog"), out);
        assertTrue(out.contains("7,222 speeches"), out);
        assertTrue(out.contains("  1. cosine "), out);
        assertTrue(out.contains("[crown]"), "the search shows its hits with the query's words marked:\n" + out);
        assertClean(r);
    }

    @Test
    void bagOfWordsReadsTheLearnersSentencesFromStdin() {
        Result r = Repo.jbang(ENV, "I love my dog\nI love my cat\n".getBytes(StandardCharsets.UTF_8), "bag-of-words", "-");
        assertEquals(0, r.exitCode(), r.all());
        // 3 shared words, both of length √4: 3 / (2 · 2) = 0.750.
        assertTrue(r.stdout().contains("cosine = 3 / (2.000 × 2.000) = 0.750"), r.stdout());
    }

    @Test
    void embeddings() {
        Result r = run("embeddings");
        assertEquals(0, r.exitCode(), r.all());
        String out = r.stdout();
        assertTrue(out.contains("1,115,394 characters, 203,863 words"), out);
        assertTrue(out.contains(": 4,984 words x 100 numbers"), out);
        assertTrue(out.contains("  king       -> "), out);
        assertTrue(out.contains("  he : she :: his : ?   -> "), out);
        // Related pairs above unrelated ones, read from the printed table.
        float kingQueen = number(out, "  king     queen\\s+(-?\\d\\.\\d+)");
        float kingNight = number(out, "  king     night\\s+(-?\\d\\.\\d+)");
        assertTrue(kingQueen > kingNight + 0.2, out);
        assertTrue(out.contains("kingship     king|ship  ->  "), out);
        assertTrue(out.contains("S1 = \"the king is dead\""), out);
        assertClean(r);
    }

    @Test
    void embeddingsCanUseAModelsOwnTokenEmbeddings(@TempDir Path dir) {
        Path model = TestModels.write(dir, TestModels.Variant.F32);
        Result r = run("embeddings", "--model", model.toString(), "king");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("The token embeddings of the model in " + model.getFileName() + ": 512 x 64"), r.stdout());
        assertTrue(r.stdout().contains("  king       -> "), r.stdout());
        assertClean(r);
    }

    @Test
    void attention() {
        Result r = run("attention");
        assertEquals(0, r.exitCode(), r.all());
        String out = r.stdout();
        assertTrue(out.contains("cosine between them: 1.000"), out);
        assertTrue(out.contains("context vector of \"I sat upon the green bank beside the water\":"), out);
        // The heatmap: a header of the words, then one row per word.
        assertTrue(out.contains("\n          the  bank  will  lend    me  gold\n"), out);
        assertTrue(Pattern.compile("\n  bank(\\s+\\d\\.\\d\\d){6}\n").matcher(out).find(), out);
        // The two contextual "bank"s differ, the static ones do not.
        float contextual = number(out, "contextual \"bank\" in sentence 1 vs 2:\\s+cosine (-?\\d\\.\\d+)");
        assertTrue(contextual < 0.99f && contextual > 0f, out);
        assertTrue(out.contains("\"bank\" of sentence 1 is made of: bank "), out);
        assertTrue(out.contains("  step 8: "), out);
        assertFalse(out.contains("\u001b["), out);
        assertClean(r);
    }

    @Test
    void attentionHeatmapInColourAndALearnersSentences() {
        Result r = run("attention", "--color=always", "the king is dead", "long live the king");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("\u001b[48;2;"), "24-bit background shades:\n" + r.stdout());
        assertTrue(r.stdout().contains("contextual \"king\" in sentence 1 vs 2:"), r.stdout());
    }

    @Test
    void transformers() {
        Result r = run("transformers");
        assertEquals(0, r.exitCode(), r.all());
        String out = r.stdout();
        assertTrue(out.contains("    The         x       x       x       x       x       x       x       x       x       x\n"), out);
        assertTrue(out.contains("    The         x       .       .       .       .       .       .       .       .       .\n"), out);
        assertTrue(out.contains("    warm        x       x       x       x       x       x       x       x       x       x\n"), out);
        assertTrue(out.contains("    + mask           0.00   0.00   0.00     -∞     -∞"), out);
        assertTrue(out.contains("tokens: [CLS]|the|cat|sat|on|the|mat|because|it|was|warm|[SEP]"), out);
        assertTrue(out.contains("ids:    [101, 1996, 4937, 2938, 2006, 1996, 13523, 2138, 2009, 2001, 4010, 102]"), out);
        assertTrue(out.contains("    input     [CLS] "), out);
        assertTrue(out.contains("  The cat sat on the mat because it was  ->   warm"), out);
        assertTrue(out.contains("GPT-2 XL          48   1600   50257     1024   1.56B        1.54B    (+1.0 %)"), out);
        assertTrue(out.contains("GPT-3             96  12288   50257     2048   174.60B      175.00B  (-0.2 %)"), out);
        float picked = number(out, "picked \\((\\d+\\.\\d) %\\)");
        assertEquals(15.0f, picked, 1.5f, "15 % of about 15,000 tokens, within 1.5 points");
        assertClean(r);
    }

    @Test
    void helpForEveryLesson() {
        for (String alias : List.of("intro", "bag-of-words", "embeddings", "attention", "transformers")) {
            Result r = run(alias, "--help");
            assertEquals(0, r.exitCode(), alias + ": " + r.all());
            assertTrue(r.stdout().startsWith("Usage: " + alias + " "), r.stdout());
            assertTrue(r.stdout().contains("--color=auto|always|never"), r.stdout());
        }
    }

    @Test
    void badInputGivesExit2AndOneClearLine() {
        for (String alias : List.of("intro", "bag-of-words", "embeddings", "attention", "transformers")) {
            Result r = run(alias, "--colour=never");
            assertEquals(2, r.exitCode(), alias + ": " + r.all());
            assertTrue(r.stderr().contains(alias + ": Unknown option: '--colour=never'"), r.stderr());
            assertTrue(r.stderr().contains("Usage: " + alias), r.stderr());
            assertClean(r);
        }
        Result noWords = run("bag-of-words", "...");
        assertEquals(2, noWords.exitCode(), noWords.all());
        assertEquals(List.of("bag-of-words: \"...\" has no words in it"), messages(noWords));
        Result badAnalogy = run("embeddings", "--analogy", "king,queen");
        assertEquals(2, badAnalogy.exitCode(), badAnalogy.all());
        assertEquals(List.of("embeddings: --analogy takes three words A,B,C, got 2"), messages(badAnalogy));
    }

    /** stderr without JBang's build lines and the JVM's note that the Vector API is an incubator module. */
    private static List<String> messages(Result r) {
        return r.errorLines().stream().filter(line -> !line.startsWith("WARNING: Using incubator modules")).toList();
    }

    private static float number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no match for " + regex + " in:\n" + text);
        return Float.parseFloat(m.group(1));
    }
}
