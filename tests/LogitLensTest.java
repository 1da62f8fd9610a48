import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import llm.LogitLens;
import llm.Phi3;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import support.TestModels;
import support.TestModels.Variant;

class LogitLensTest {

    @TempDir
    static Path dir;

    /** 21 tokens: the last one is in the second prefill batch. */
    static final int[] PROMPT = {1, 300, 301, 415, 77, 350, 351, 352, 500, 290, 10, 260, 470, 471, 299, 333, 444, 511, 2, 288, 400};

    @Test
    void afterTheLastBlockTheLensGivesTheModelsOwnLogits() {
        try (Phi3 model = Phi3.load(TestModels.write(dir, Variant.Q8_0))) {
            float[][] lens = LogitLens.lastPosition(model, PROMPT);
            assertEquals(TestModels.BLOCKS, lens.length);
            float[] logits = model.forward(model.newState(), PROMPT);
            // The same final norm and LM head on the same residual stream. Not always equal to the bit: the
            // Vector API kernels add their lanes in another order before and after the JIT compiles them
            // (two plain forward passes differ by ~1e-7 too), so 1e-5 of the largest logit.
            float scale = 0;
            for (float l : logits) scale = Math.max(scale, Math.abs(l));
            assertArrayEquals(logits, lens[TestModels.BLOCKS - 1], 1e-5f * scale);
            // ...while an earlier block reads differently (the last block does change the stream)
            double difference = 0;
            for (int i = 0; i < logits.length; i++) difference = Math.max(difference, Math.abs(logits[i] - lens[0][i]));
            assertTrue(difference > 0.01, "block 0 and the last block give the same logits: " + difference);
        }
    }

    @Test
    void aPromptWithNoTokensIsRefused() {
        try (Phi3 model = Phi3.load(TestModels.write(dir, Variant.F32))) {
            assertThrows(IllegalArgumentException.class, () -> LogitLens.lastPosition(model));
        }
    }
}
