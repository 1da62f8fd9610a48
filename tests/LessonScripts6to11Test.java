import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.Repo;
import support.Repo.Result;
import support.TestModels;
import support.TestModels.Variant;

/**
 * Lessons 6, 7, 8, 10 and 11 run as a learner runs them: `./jbang ALIAS` through the wrapper and the
 * catalog, in fresh JVMs. Every run happens once, up front: the five scripts side by side, each script's
 * runs one after another (each run is mostly JVM and JBang start-up); the tests check what they printed.
 *
 * <p>"Without a model" means an empty Hugging Face cache (HF_HOME in a temp folder); "with a model" is a
 * random-weight Phi-3-layout file from {@link TestModels} with Phi-3's vocabulary size, so the shipped
 * Phi-3 tokenizer's ids fit. Its outputs mean nothing; the shapes, equalities and counts do.
 */
class LessonScripts6to11Test {

    @TempDir
    static Path dir;

    static final String NEEDS = "needs Phi-3-mini: run ./jbang phi3 once to download it, or pass --model PATH.";
    static final List<String> ALIASES = List.of("architecture", "block", "self-attention", "rope", "moe");

    static final Map<String, Result> results = new ConcurrentHashMap<>();
    static Path model;

    /** The runs of one script, one after another (two runs of one script at once could both try to build it). */
    record Chain(String alias, List<List<String>> runs) {}

    @SafeVarargs
    static Chain chain(String alias, List<String>... runs) {
        return new Chain(alias, List.of(runs));
    }

    @BeforeAll
    static void runEveryScript() {
        model = TestModels.builder(Variant.GQA).vocab(32064).write(dir.resolve("phi3-test.gguf"));
        String file = model.toString();
        List<Chain> chains = List.of(
                chain("architecture", List.of(), List.of("--model", file), List.of("--logits", "yes=2,no=1", "--top-k", "1"),
                        List.of("--top-p", "2"), List.of("--help"), List.of("--no-such-option")),
                chain("block", List.of(), List.of("--model", file, "--layer", "1"), List.of("--model", dir.resolve("missing.gguf").toString()),
                        List.of("--help"), List.of("--no-such-option")),
                chain("self-attention", List.of(), List.of("--help"), List.of("--no-such-option")),
                chain("rope", List.of(), List.of("--help"), List.of("--no-such-option")),
                chain("moe", List.of(), List.of("--help"), List.of("--no-such-option")));
        Map<String, String> env = Map.of("HF_HOME", dir.resolve("empty-hf-home").toString());
        ExecutorService pool = Executors.newFixedThreadPool(chains.size());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (Chain c : chains) {
                done.add(pool.submit(() -> {
                    for (List<String> args : c.runs()) {
                        List<String> command = new ArrayList<>(List.of(c.alias()));
                        command.addAll(args);
                        results.put(String.join(" ", command), Repo.jbang(env, null, command.toArray(String[]::new)));
                    }
                }));
            }
            for (Future<?> f : done) f.get();
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            pool.shutdownNow();
        }
    }

    static Result run(String command) {
        Result r = results.get(command);
        assertNotNull(r, "not run: " + command);
        return r;
    }

    static Result ok(String name) {
        Result r = run(name);
        assertEquals(0, r.exitCode(), name + ":\n" + r.all());
        assertFalse(r.stdout().contains("\u001b["), name + ": no colour when stdout is not a terminal");
        assertTrue(r.errorLines().stream().noneMatch(l -> l.contains("Exception")), name + ": " + r.stderr());
        return r;
    }

    static int count(String text, String part) {
        int n = 0;
        for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) n++;
        return n;
    }

    static void assertContains(String out, String... parts) {
        for (String part : parts) assertTrue(out.contains(part), "missing: " + part + "\nin:\n" + out);
    }

    // ---------------------------------------------------------------------------------------------

    @Test
    void architectureWithoutAModelShowsPhi3NumbersAnExampleDistributionAndTheKvFormula() {
        String out = ok("architecture").stdout();
        assertContains(out,
                "Phi-3's vocabulary has 32011 tokens",
                "-> ids [450, 7483, 310, 3444, 338]",
                "= 3.82B (published: 3.8B)",
                // softmax of the example scores at T = 0.5, 1, 1.5 (computed apart from the code under test)
                "  \" Paris\"                   9.10     0.983     0.808     0.602",
                "only the 3 likeliest stay, renormalised: \" Paris\" 0.858, \" the\" 0.095, \" a\" 0.047",
                "Phi-3-mini  2 x 32 x 32 x  96 x 4096 tokens x 2 bytes (fp16) = 1.50 GiB",
                "Llama-3-8B  2 x 32 x  8 x 128 x 4096 tokens x 2 bytes (fp16) = 512.0 MiB");
        assertEquals(3, count(out, NEEDS), out);
    }

    @Test
    void architectureWithAModelRunsItsModelParts() {
        String out = ok("architecture --model " + model).stdout();
        assertContains(out,
                "Model: phi3-test.gguf",
                "The model file used below: 2 blocks of 64 numbers per token, LM head 64 -> 32064.",
                "Scores: (model) the model's scores after \"The capital of France is\"",
                "the 10 highest of 32064",
                "(model) 6 tokens in -> the stack -> 6 vectors out, shape [6, 64]",
                "both ways: same)",
                "same tokens: yes");
        assertEquals(0, count(out, NEEDS), out);
        Matcher ttft = Pattern.compile("all 6 tokens at once (\\d+\\.\\d+) s, one at a time (\\d+\\.\\d+) s").matcher(out);
        assertTrue(ttft.find(), out);
        Matcher kv = Pattern.compile("(\\d+) new tokens after the 6-token prompt").matcher(out);
        assertTrue(kv.find(), out);
        assertEquals(20, Integer.parseInt(kv.group(1)));
    }

    @Test
    void architectureTakesTheLearnersScores() {
        String out = ok("architecture --logits yes=2,no=1 --top-k 1").stdout();
        // softmax(2, 1): e / (e + 1) = 0.731
        assertContains(out, "Scores: your scores.", "  \"yes\"                      2.00     0.881     0.731     0.661",
                "only the 1 likeliest stay, renormalised: \"yes\" 1.000");
    }

    @Test
    void blockWithoutAModelPrintsPhi3MinisShapes() {
        String out = ok("block").stdout();
        assertContains(out,
                "Phi-3-mini's shapes for \"The capital of France is\" (6 tokens with <s>)",
                "qkv_proj                             [6,9216] = q[6,32,96] | k[6,32,96] | v[6,32,96]",
                "attention softmax(q·kᵀ/√96)·v        [6,3072] (weights [32,6,6])",
                "gate_up_proj                         [6,16384] = gate[6,8192] | up[6,8192]",
                "SiLU(gate) * up                      [6,8192]");
        assertEquals(4, count(out, NEEDS), out);
    }

    @Test
    void blockWithAModelShowsEveryStepTheAttentionAndALogitLensEndingInTheModelsAnswer() {
        String out = ok("block --model " + model + " --layer 1").stdout();
        assertContains(out, "(model) Block 0 of 2 on \"The capital of France is\" (6 tokens with <s>",
                "qkv_proj                             [6,128] = q[6,4,16] | k[6,2,16] | v[6,2,16]",
                "gate_up_proj                         [6,512] = gate[6,256] | up[6,256]",
                "Layer 1, head by head");
        for (String step : List.of("input: the residual stream", "input_layernorm", "RoPE on q and k", "o_proj", "+ residual (input + o_proj)",
                "post_attention_layernorm", "SiLU(gate) * up", "down_proj", "+ residual = the block's output"))
            assertTrue(Pattern.compile("\\n  \\Q" + step + "\\E.*\\[ *-?\\d+\\.\\d{3} ").matcher(out).find(), step + " row with values:\n" + out);

        // The heatmap: a row per layer (2) and per head of layer 1 (4), each row's percentages adding up to 100
        // (up to rounding: at most 0.5 per token, 11 tokens with <s>).
        Matcher row = Pattern.compile("\\n +\\d+((?: +\\d+){11})   \"").matcher(out);
        int rows = 0;
        while (row.find()) {
            int sum = 0;
            for (String p : row.group(1).trim().split(" +")) sum += Integer.parseInt(p);
            assertTrue(Math.abs(sum - 100) <= 6, "a row of attention percentages adds up to " + sum + ": " + row.group());
            rows++;
        }
        assertEquals(2 + 4, rows, out);

        // The lens after the last block gives the model's answer.
        Matcher answer = Pattern.compile("-> the model's answer (\"[^\"]*\")").matcher(out);
        assertTrue(answer.find(), out);
        Matcher lastBlock = Pattern.compile("\\n +1  (\"[^\"]*\") \\d+ +\\d\\.\\d{3} .*  <-\\n").matcher(out);
        assertTrue(lastBlock.find(), out);
        assertEquals(answer.group(1), lastBlock.group(1));
        assertEquals(0, count(out, NEEDS), out);
    }

    @Test
    void selfAttentionShowsItsStepsAndTheEquivalences() {
        String out = ok("self-attention").stdout();
        assertContains(out, "GQA with as many groups as heads is MHA", "GQA with one group is MQA",
                "to a multiple of 1024: 14336.", "parameters                  8.03B (published: 8B)");
        assertTrue(Pattern.compile("Phi-3-mini +32 +32 +96 +37\\.7M +384 KiB +1\\.50 GiB").matcher(out).find(), out);
        assertTrue(Pattern.compile("Llama-3-8B +32 +8 +128 +41\\.9M +128 KiB +512\\.0 MiB").matcher(out).find(), out);
        Matcher difference = Pattern.compile("max difference (\\d\\.\\de[-+]\\d+)").matcher(out);
        int found = 0;
        while (difference.find()) {
            assertTrue(Double.parseDouble(difference.group(1)) <= 1e-6, difference.group());
            found++;
        }
        assertEquals(3, found, out); // the library check, MHA and MQA
        Matcher blockwise = Pattern.compile("(?m)^ +(\\d+) +\\1 +(\\d\\.\\de[-+]\\d+)$").matcher(out);
        found = 0;
        while (blockwise.find()) {
            assertTrue(Double.parseDouble(blockwise.group(2)) <= 1e-5, "blockwise vs full: " + blockwise.group());
            found++;
        }
        assertEquals(4, found, out);
        // The attention weights of the 5 words: each row adds up to 1 (printed with 2 decimals).
        String weights = out.substring(out.indexOf("Attention weights = softmax"), out.indexOf("Z = weights · V"));
        Matcher weightRow = Pattern.compile("\\n +\\S+((?: +\\d\\.\\d\\d){5})").matcher(weights);
        int rows = 0;
        while (weightRow.find()) {
            double sum = 0;
            for (String w : weightRow.group(1).trim().split(" +")) sum += Double.parseDouble(w);
            assertEquals(1.0, sum, 0.03, weightRow.group());
            rows++;
        }
        assertEquals(5, rows, weights);
        assertContains(out, "local, window 4: 58 of 136 scores (43%)");
    }

    @Test
    void ropeShowsTheRelativePositionPropertyAndPacking() {
        String out = ok("rope").stdout();
        Matcher score = Pattern.compile("\\n +(\\d+) +(\\d+) +(\\d+) +(-?\\d+\\.\\d{5})").matcher(out);
        Map<Integer, List<Double>> byDistance = new LinkedHashMap<>();
        while (score.find()) {
            assertEquals(Integer.parseInt(score.group(1)) - Integer.parseInt(score.group(2)), Integer.parseInt(score.group(3)));
            byDistance.computeIfAbsent(Integer.parseInt(score.group(3)), d -> new ArrayList<>()).add(Double.parseDouble(score.group(4)));
        }
        assertEquals(List.of(3, 10), List.copyOf(byDistance.keySet()), out);
        for (List<Double> scores : byDistance.values()) {
            assertEquals(4, scores.size());
            for (double s : scores) assertEquals(scores.get(0), s, 1e-5 * Math.max(1, Math.abs(scores.get(0))), "same distance, same score");
        }
        assertNotEquals(byDistance.get(3).get(0), byDistance.get(10).get(0), 1e-3);
        assertContains(out, "position ids 0 1 2 0 1 0 1 2 3 _", "tokens       A A A B B C C C C _");
        Matcher waste = Pattern.compile("padding: +\\d+ rows, +(\\d+\\.\\d)% .*\\n +packing: +\\d+ rows, +(\\d+\\.\\d)% padding").matcher(out);
        assertTrue(waste.find(), out);
        assertTrue(Double.parseDouble(waste.group(1)) > 50 && Double.parseDouble(waste.group(2)) < 2, waste.group());
    }

    @Test
    void moeRoutesEveryTokenAndCountsMixtralsParameters() {
        String out = ok("moe").stdout();
        assertTrue(Pattern.compile("total \\(every expert stored\\) +46\\.70B +published: 46\\.7B").matcher(out).find(), out);
        assertTrue(Pattern.compile("active per token \\(2 experts run\\) +12\\.88B +published: 12\\.9B").matcher(out).find(), out);
        // The load: the counts per expert add up to tokens x k.
        Matcher top = Pattern.compile("Top-(\\d): (\\d+) tokens x \\1 = (\\d+) assignments.*\\n((?: +expert \\d +\\d+.*\\n){8})").matcher(out);
        int tables = 0;
        while (top.find()) {
            int k = Integer.parseInt(top.group(1)), tokens = Integer.parseInt(top.group(2));
            assertEquals(tokens * k, Integer.parseInt(top.group(3)));
            int sum = 0;
            for (String line : top.group(4).split("\\n")) sum += Integer.parseInt(line.trim().split(" +")[2]);
            assertEquals(tokens * k, sum, top.group());
            tables++;
        }
        assertEquals(2, tables, out);
        // every token appears with its experts, the top one first
        Matcher tokens = Pattern.compile("\\[(\\d),(\\d)\\]").matcher(out);
        int routed = 0;
        while (tokens.find()) {
            assertNotEquals(tokens.group(1), tokens.group(2));
            routed++;
        }
        assertEquals(18, routed, out);
    }

    @Test
    void everyScriptPrintsItsHelpAndRefusesABadOptionWithExit2() {
        for (String alias : ALIASES) {
            Result help = run(alias + " --help");
            assertEquals(0, help.exitCode(), help.all());
            assertTrue(help.stdout().startsWith("Usage: " + alias), help.stdout());
            Result bad = run(alias + " --no-such-option");
            assertEquals(2, bad.exitCode(), bad.all());
            assertTrue(bad.stderr().contains(alias + ": Unknown option: '--no-such-option'"), bad.stderr());
            assertTrue(bad.stderr().contains("Usage: " + alias), bad.stderr());
        }
    }

    @Test
    void badValuesAndMissingFilesGiveOneLineAndExit2() {
        Result topP = run("architecture --top-p 2");
        assertEquals(2, topP.exitCode(), topP.all());
        assertEquals(List.of("architecture: --top-p must be in (0, 1], got 2.0"), topP.errorLines().stream().filter(l -> !l.startsWith("WARNING")).toList());
        Result missing = run("block --model " + dir.resolve("missing.gguf"));
        assertEquals(2, missing.exitCode(), missing.all());
        assertEquals(List.of("block: " + dir.resolve("missing.gguf") + ": no such model file"),
                missing.errorLines().stream().filter(l -> !l.startsWith("WARNING")).toList());
    }
}
