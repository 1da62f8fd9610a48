import static org.junit.jupiter.api.Assertions.*;

import llm.ModelSizes;
import llm.ModelSizes.Architecture;
import org.junit.jupiter.api.Test;

/**
 * The size formulas against the numbers the model makers and Hugging Face publish. Exact counts are the
 * ones Hugging Face shows for the checkpoints (safetensors parameter totals); the rounded figures are
 * from the papers and model cards.
 */
class ModelSizesTest {

    @Test
    void phi3MiniHasTheParameterCountOfItsCheckpoint() {
        Architecture phi3 = ModelSizes.PHI3_MINI;
        assertEquals(96, phi3.headSize());
        assertEquals(98_500_608L, phi3.embeddingParameters()); // 32064 x 3072
        assertEquals(3_821_079_552L, phi3.parameters());        // "3.8B"
        assertEquals(phi3.parameters(), phi3.activeParameters(), "a dense model uses every parameter");
    }

    @Test
    void llama3_8bHasTheParameterCountOfItsCheckpoint() {
        Architecture llama = ModelSizes.LLAMA3_8B;
        assertEquals(4, llama.groupSize());
        assertEquals(1024, llama.kvDim());
        assertEquals(8_030_261_248L, llama.parameters()); // "8B"
    }

    @Test
    void mixtralTotalAndActiveParametersMatchThePublishedFigures() {
        Architecture mixtral = ModelSizes.MIXTRAL_8X7B;
        assertEquals(46_702_792_704L, mixtral.parameters());
        // Mistral AI: "46.7B total parameters but only uses 12.9B parameters per token" (within 2 %)
        assertEquals(46.7e9, mixtral.parameters(), 0.02 * 46.7e9);
        assertEquals(12.9e9, mixtral.activeParameters(), 0.02 * 12.9e9);
        assertEquals(12_879_925_248L, mixtral.activeParameters());
        assertEquals(32_768L, mixtral.routerParameters()); // 4096 x 8 per block
    }

    @Test
    void kvCacheIsTwoTimesLayersTimesKvHeadsTimesHeadSizeTimesTokensTimesBytes() {
        // fp16 (2 bytes) at 4k tokens
        assertEquals(1_610_612_736L, ModelSizes.PHI3_MINI.kvCacheBytes(4096, 2));  // 1.5 GiB
        assertEquals(536_870_912L, ModelSizes.LLAMA3_8B.kvCacheBytes(4096, 2));    // 0.5 GiB
        assertEquals(393_216L, ModelSizes.PHI3_MINI.kvCacheBytes(1, 2));           // 384 KiB per token
        assertEquals(131_072L, ModelSizes.LLAMA3_8B.kvCacheBytes(1, 2));           // 128 KiB per token
        assertEquals(ModelSizes.LLAMA3_8B.kvCacheBytes(4096, 2), ModelSizes.MIXTRAL_8X7B.kvCacheBytes(4096, 2),
                "experts do not change the attention, so not the cache");
    }

    @Test
    void llamaFeedForwardRuleGivesTheWidthsOfTheReleasedModels() {
        assertEquals(14336, ModelSizes.llamaFeedForward(4096, 1.3, 1024)); // Llama-3-8B
        assertEquals(28672, ModelSizes.llamaFeedForward(8192, 1.3, 4096)); // Llama-3-70B
        assertEquals(11008, ModelSizes.llamaFeedForward(4096, 1.0, 256));  // Llama-2-7B
    }

    @Test
    void countsAndBytesPrintTheWayPapersWriteThem() {
        assertEquals("3.82B", ModelSizes.count(3_821_079_552L));
        assertEquals("98.5M", ModelSizes.count(98_500_608L));
        assertEquals("1.50 GiB", ModelSizes.bytes(1_610_612_736L));
        assertEquals("384 KiB", ModelSizes.bytes(393_216L));
    }

    @Test
    void impossibleShapesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Architecture("x", 10, 100, 1, 3, 1, 10, 1, 1, false, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Architecture("x", 10, 96, 1, 32, 5, 10, 1, 1, false, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new Architecture("x", 10, 96, 1, 32, 8, 10, 8, 9, false, 0, 0));
    }
}
