//DEPS de.kherud:llama:4.2.0
//RUNTIME_OPTIONS --enable-native-access=ALL-UNNAMED

import static org.junit.jupiter.api.Assertions.*;

import de.kherud.llama.InferenceParameters;
import de.kherud.llama.LlamaModel;
import de.kherud.llama.LlamaOutput;
import de.kherud.llama.ModelParameters;
import de.kherud.llama.args.CacheType;
import de.kherud.llama.args.LogFormat;
import de.kherud.llama.args.PoolingType;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import llm.Generation;
import llm.Phi3;
import llm.Sampler;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import support.TestModels;
import support.TestModels.Variant;

/**
 * Our engine against an independent implementation: llama.cpp (build b4916, through de.kherud:llama
 * 4.2.0, whose jar ships the native library) loads the same small test files.
 *
 * <p>Both engines see the same ids: the prompt is text made of word pieces; llama.cpp's tokenize API
 * must give the ids we expect, and both prepend BOS (the files say {@code add_bos_token}).
 *
 * <p>What is compared: (1) greedy continuations, 32 tokens, identical ids; (2) the hidden state the LM
 * head sees at the last position (llama.cpp's embedding with LAST pooling, which it L2-normalises).
 * Logits themselves cannot be compared: this binding's {@code n_probs} aborts the JVM (its
 * jllama.cpp reads {@code completion_probabilities[].probs[].tok_str}, which the bundled server no
 * longer writes, and the JSON library asserts), so the hidden state before the LM head stands in.
 */
class LlamaCppAgreementTest {

    @TempDir
    static Path dir;
    static String nativeProblem;

    static final String PROMPT = "ja ko bin zu";

    @BeforeAll
    static void loadLlamaCpp() {
        // Extract the native library into our own folder (by default it goes to /tmp/libjllama.so, shared
        // with any other run), and keep its "Extracted ..." line and llama.cpp's log out of the test output.
        System.setProperty("de.kherud.llama.tmpdir", dir.toString());
        PrintStream out = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        try {
            LlamaModel.setLogger(LogFormat.TEXT, (level, message) -> {});
        } catch (LinkageError e) {
            nativeProblem = "llama.cpp's native library does not load on this platform: " + e;
        } finally {
            System.setOut(out);
        }
    }

    static LlamaModel llamaCpp(Path file, boolean embedding) {
        Assumptions.assumeTrue(nativeProblem == null, nativeProblem);
        ModelParameters p = new ModelParameters().setModel(file.toString()).setCtxSize(TestModels.CONTEXT)
                .setThreads(2).disableLog()
                // an F32 KV cache, like ours (llama.cpp's default F16 cache would round keys and values)
                .setCacheTypeK(CacheType.F32).setCacheTypeV(CacheType.F32);
        if (embedding) p.enableEmbedding().setPoolingType(PoolingType.LAST);
        return new LlamaModel(p);
    }

    /** The ids we expect for the prompt: BOS, then one word piece per word (▁ marks the space before it). */
    static int[] promptIds() {
        List<String> vocab = Arrays.asList(TestModels.tokens());
        String[] words = PROMPT.split(" ");
        int[] ids = new int[words.length + 1];
        ids[0] = TestModels.BOS;
        for (int i = 0; i < words.length; i++) ids[i + 1] = vocab.indexOf("▁" + words[i]);
        return ids;
    }

    @Test
    void llamaCppTokenizesThePromptToTheIdsWeFeed() {
        try (LlamaModel cpp = llamaCpp(TestModels.shared(Variant.F32), false)) {
            int[] expected = promptIds();
            assertArrayEquals(Arrays.copyOfRange(expected, 1, expected.length), cpp.encode(PROMPT),
                    "llama.cpp's tokenize API (which adds no BOS; completion adds it per add_bos_token)");
        }
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void greedyContinuationsAreTheSameIds(Variant v) {
        Path file = TestModels.shared(v);
        Map<String, Integer> idOfPiece = new HashMap<>();
        for (int id = TestModels.FIRST_WORD; id < TestModels.VOCAB; id++) idOfPiece.put(TestModels.text(id), id);

        List<Integer> theirs = new ArrayList<>();
        try (LlamaModel cpp = llamaCpp(file, false)) {
            InferenceParameters greedy = new InferenceParameters(PROMPT).setTemperature(0f).setNPredict(32).setSeed(1);
            for (LlamaOutput piece : cpp.generate(greedy)) {
                if (piece.text.isEmpty()) continue; // the final "stop" message
                Integer id = idOfPiece.get(piece.text);
                assertNotNull(id, v + ": llama.cpp generated '" + piece.text + "', which is not one of the word pieces");
                theirs.add(id);
            }
        }
        try (Phi3 model = Phi3.load(file)) {
            int[] ours = new Generation(model).sampler(Sampler.greedy()).maxNewTokens(32).generate(promptIds()).ids();
            assertEquals(32, theirs.size(), v + ": llama.cpp generated " + theirs);
            assertArrayEquals(theirs.stream().mapToInt(Integer::intValue).toArray(), ours, v + ": llama.cpp " + theirs + ", ours " + Arrays.toString(ours));
        }
    }

    /**
     * Largest allowed difference per element of the unit-length hidden state. F32 weights: both engines
     * compute in float32 (llama.cpp here with an F32 KV cache), only the order of additions differs:
     * 1e-6 (measured: under 1e-7). Other types: llama.cpp rounds the activations too before its matrix
     * products (to F16, BF16, or 8-bit blocks Q8_0/Q8_K for the quantized types), we keep them float:
     * F16 2e-4 (measured 4e-5), BF16 2e-3 (3e-4), 8-bit activations 5e-3 (measured 0.9e-3 to 1.4e-3).
     */
    static double tolerance(Variant v) {
        return switch (v) {
            case F32, GQA, LLAMA -> 1e-6;
            case F16 -> 2e-4;
            case BF16 -> 2e-3;
            case Q8_0, Q4_0, Q4_K_M -> 5e-3;
        };
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void theHiddenStateBeforeTheLmHeadAgrees(Variant v) {
        Path file = TestModels.shared(v);
        float[] theirs;
        try (LlamaModel cpp = llamaCpp(file, true)) {
            theirs = cpp.embed(PROMPT);
        }
        try (Phi3 model = Phi3.load(file)) {
            int[] ids = promptIds();
            float[] ours = model.hiddenStates(model.newState(), ids)[ids.length - 1];
            double norm = 0;
            for (float x : ours) norm += x * x;
            norm = Math.sqrt(norm);
            assertEquals(ours.length, theirs.length);
            double maxDiff = 0;
            for (int i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i] / norm - theirs[i]));
            assertTrue(maxDiff <= tolerance(v), v + ": hidden states differ by up to " + maxDiff + " (allowed " + tolerance(v) + ")");
        }
    }

    @Test
    void theHiddenStateComparisonSeesWordOrder() {
        // The check above means something for positions (RoPE, the causal mask): swapping two words moves
        // llama.cpp's own hidden state by far more than the F32 tolerance.
        try (LlamaModel cpp = llamaCpp(TestModels.shared(Variant.F32), true)) {
            float[] a = cpp.embed(PROMPT), b = cpp.embed("ko ja bin zu");
            double maxDiff = 0;
            for (int i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
            assertTrue(maxDiff > 1000 * tolerance(Variant.F32), "swapping two words changed the hidden state by only " + maxDiff);
        }
    }
}
