import static org.junit.jupiter.api.Assertions.assertEquals;

import llm.GptSizes;
import org.junit.jupiter.api.Test;

class GptSizesTest {

    @Test
    void gpt2XlAndGpt3MatchTheirPapersWithin2Percent() {
        // GPT-2 paper, table 2: 1542M; GPT-3 paper, table 2.1: 175.0B.
        assertEquals(1.0, GptSizes.GPT2_XL.parameters() / 1542e6, 0.02);
        assertEquals(1.0, GptSizes.GPT3.parameters() / 175.0e9, 0.02);
        assertEquals(1.0, GptSizes.GPT1.parameters() / 117e6, 0.02);
    }

    @Test
    void exactCountsByHand() {
        // GPT-2 XL: 48·(12·1600² + 13·1600) + 50257·1600 + 1024·1600 + 2·1600 = 1,557,611,200,
        // the number of parameters of the released gpt2-xl checkpoint.
        assertEquals(1_557_611_200L, GptSizes.GPT2_XL.parameters());
        // GPT-2 small as released: 124,439,808 (the paper's table said 117M).
        assertEquals(124_439_808L, GptSizes.GPT2_SMALL.parameters());
        // GPT-1: 12·(12·768² + 13·768) + 40478·768 + 512·768, no final LayerNorm.
        assertEquals(12L * (12 * 768 * 768 + 13 * 768) + 40478L * 768 + 512L * 768, GptSizes.GPT1.parameters());
        assertEquals(12L * 12288 * 12288 + 13 * 12288, GptSizes.GPT3.block());
    }
}
