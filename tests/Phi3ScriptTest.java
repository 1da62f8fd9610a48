import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.ReferencePhi3;
import support.Repo;
import support.Repo.Result;
import support.TestModels;

/**
 * `./jbang phi3` end to end on a small random-weight file in Phi-3's layout with Phi-3's vocabulary
 * size, so the shipped Phi-3 tokenizer's ids fit. Generated ids and top logits are checked against
 * the slow reference implementation in tests/support.
 */
class Phi3ScriptTest {

    @TempDir static Path dir;
    static Path model;
    static ReferencePhi3 reference;

    /** "The capital of France is" with the shipped tokenizer, after the <s> the file asks for. */
    static final int[] PROMPT = {1, 450, 7483, 310, 3444, 338};

    @BeforeAll
    static void writeModel() {
        model = TestModels.builder(TestModels.Variant.F32).vocab(32064).write(dir.resolve("phi3-vocab-32064.gguf"));
        reference = ReferencePhi3.load(model);
    }

    static Result phi3(String... args) {
        String[] all = new String[args.length + 3];
        all[0] = "phi3";
        all[1] = "--model";
        all[2] = model.toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return Repo.jbang(Map.of("NO_COLOR", "1"), null, all);
    }

    @Test
    void jsonGenerationGivesTheReferencesGreedyIdsAndTopLogits() {
        Result run = phi3("generate", "--json", "--max-tokens", "12", "--top-logits", "5", "The capital of France is");
        assertEquals(0, run.exitCode(), run.all());
        JsonObject json = JsonParser.parseString(run.stdout().strip()).getAsJsonObject();
        assertEquals("[1,450,7483,310,3444,338]", json.get("prompt_ids").toString());
        int[] ids = new com.google.gson.Gson().fromJson(json.get("ids"), int[].class);
        assertArrayEquals(reference.greedy(PROMPT, 12), ids);

        // Each step: the 5 highest logits, highest first, equal to the reference's (float vs double math: 1e-3).
        JsonArray steps = json.getAsJsonArray("top_logits");
        assertEquals(12, steps.size());
        int[] sequence = java.util.Arrays.copyOf(PROMPT, PROMPT.length + ids.length);
        System.arraycopy(ids, 0, sequence, PROMPT.length, ids.length);
        double[][] logits = reference.logits(sequence);
        for (int step = 0; step < steps.size(); step++) {
            JsonArray top = steps.get(step).getAsJsonArray();
            assertEquals(5, top.size());
            assertEquals(ids[step], top.get(0).getAsJsonArray().get(0).getAsInt(), "greedy picks the first entry");
            double[] expected = logits[PROMPT.length - 1 + step];
            for (int j = 0; j < 5; j++) {
                JsonArray entry = top.get(j).getAsJsonArray();
                double logit = entry.get(1).getAsDouble();
                assertEquals(expected[entry.get(0).getAsInt()], logit, 1e-3 * Math.max(1, Math.abs(logit)));
                if (j > 0) assertTrue(logit <= top.get(j - 1).getAsJsonArray().get(1).getAsDouble());
            }
        }
    }

    @Test
    void topShowsEachStepsCandidatesAndMarksWhatGreedyMayPick() {
        Result run = phi3("generate", "--max-tokens", "4", "--top", "3", "The capital of France is");
        assertEquals(0, run.exitCode(), run.all());
        List<String> rows = run.stdout().lines().filter(l -> l.matches("\\s*\\d+\\s+\".*")).toList();
        assertEquals(4, rows.size(), run.stdout());
        java.util.regex.Pattern candidate = java.util.regex.Pattern.compile("([ *])\"((?:[^\"\\\\]|\\\\.)*)\" (\\d\\.\\d{3})");
        for (String row : rows) {
            // after the step, the chosen token and its p: the 3 candidates; greedy allows only the first
            var m = candidate.matcher(row.substring(row.indexOf("  ", row.indexOf('"') + 1)));
            StringBuilder marks = new StringBuilder();
            while (m.find()) marks.append(m.group(1));
            assertEquals("*  ", marks.toString(), row);
        }
    }

    @Test
    void showProbsFallsBackToBracketsWithoutColour() {
        Result run = phi3("generate", "--max-tokens", "3", "--show-probs", "The capital of France is");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.stdout().contains("Probability of each token in [brackets] after it."), run.stdout());
        assertTrue(run.stdout().matches("(?s).*\\[[01]\\.\\d\\d\\].*"), run.stdout());
        assertFalse(run.stdout().contains("\u001b["), run.stdout());
    }

    @Test
    void inspectPrintsTheArchitectureWithTheFilesSizesAndOneForwardPass() {
        Result run = phi3("inspect");
        assertEquals(0, run.exitCode(), run.all());
        String out = run.stdout();
        assertTrue(out.contains("(embed_tokens): Embedding(32064, 64, padding_idx=32000)"), out);
        assertTrue(out.contains("(0-1): 2 x Phi3DecoderLayer("), out);
        assertTrue(out.contains("(qkv_proj): Linear(in_features=64, out_features=192, bias=False)"), out);
        assertTrue(out.contains("(gate_up_proj): Linear(in_features=64, out_features=512, bias=False)"), out);
        assertTrue(out.contains("(lm_head): Linear(in_features=64, out_features=32064, bias=False)"), out);
        assertTrue(out.contains("ids [450, 7483, 310, 3444, 338]"), out);
        assertTrue(out.contains("shape [1, 5, 64]"), out);
        assertTrue(out.contains("shape [1, 5, 32064]"), out);
        double[][] logits = reference.logits(new int[] {450, 7483, 310, 3444, 338});
        int best = 0;
        for (int i = 1; i < logits[4].length; i++) if (logits[4][i] > logits[4][best]) best = i;
        assertTrue(out.contains("Most likely next token: id " + best + " "), "reference argmax " + best + " in:\n" + out);
    }

    @Test
    void theWalkthroughRunsEverySection() {
        Result run = phi3();
        assertEquals(0, run.exitCode(), run.all());
        for (String section : List.of("== 1. Generate text", "== 2. The model's architecture", "== 3. One forward pass", "== 4. The KV cache")) {
            assertTrue(run.stdout().contains(section), section + " missing:\n" + run.stdout());
        }
        assertTrue(run.stdout().contains("(same tokens: yes)"), run.stdout());
    }

    @Test
    void aMissingModelOfflineSaysWhatToDownloadAndWhere() {
        // A mirror (HF_ENDPOINT) on a closed local port, and offline: the message names the mirror's URL.
        Result run = Repo.jbang(Map.of("HF_HUB_OFFLINE", "1", "HF_ENDPOINT", "http://127.0.0.1:9"), null, "phi3", "generate", "Hi");
        assertEquals(2, run.exitCode(), run.all());
        assertTrue(run.stderr().contains("Phi-3-mini-4k-instruct-q4.gguf is not on this machine yet"), run.stderr());
        assertTrue(run.stderr().contains("http://127.0.0.1:9/microsoft/Phi-3-mini-4k-instruct-gguf/resolve/main/Phi-3-mini-4k-instruct-q4.gguf"), run.stderr());
        assertFalse(run.all().contains("\tat "), run.all());
    }
}
