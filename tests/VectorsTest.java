import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import llm.Vectors;
import org.junit.jupiter.api.Test;

class VectorsTest {

    @Test
    void cosineOfHandPickedVectors() {
        // 3-4-5 triangle: (3,4)·(4,3) = 24, both of length 5, so cos = 24/25.
        assertEquals(0.96f, Vectors.cosine(new float[] {3, 4}, new float[] {4, 3}), 1e-6f);
        assertEquals(1f, Vectors.cosine(new float[] {1, 2, 3}, new float[] {2, 4, 6}), 1e-6f, "length does not matter");
        assertEquals(-1f, Vectors.cosine(new float[] {1, 2}, new float[] {-1, -2}), 1e-6f);
        assertEquals(0f, Vectors.cosine(new float[] {1, 0}, new float[] {0, 7}), 0f);
        assertEquals(0f, Vectors.cosine(new float[] {0, 0}, new float[] {1, 1}), 0f, "a zero vector has no direction");
    }

    @Test
    void integerCosineOfCountVectors() {
        // [1,1,1,1,1,0,0] and [0,1,0,1,0,1,1] share 2 words: 2 / (√5 · √4).
        assertEquals(2 / Math.sqrt(20), Vectors.cosine(new int[] {1, 1, 1, 1, 1, 0, 0}, new int[] {0, 1, 0, 1, 0, 1, 1}), 1e-12);
    }

    @Test
    void arithmetic() {
        assertEquals(5f, Vectors.norm(new float[] {3, 4}), 1e-6f);
        assertEquals(11f, Vectors.dot(new float[] {1, 2}, new float[] {3, 4}), 0f);
        assertArrayEquals(new float[] {0.6f, 0.8f}, Vectors.normalized(new float[] {3, 4}), 1e-6f);
        assertArrayEquals(new float[] {4, 6}, Vectors.add(new float[] {1, 2}, new float[] {3, 4}));
        assertArrayEquals(new float[] {-2, -2}, Vectors.subtract(new float[] {1, 2}, new float[] {3, 4}));
        assertArrayEquals(new float[] {2, 4}, Vectors.scale(new float[] {1, 2}, 2));
        assertArrayEquals(new float[] {2, 3}, Vectors.mean(List.of(new float[] {1, 2}, new float[] {3, 4})));
    }

    @Test
    void mismatchedLengthsAreRefused() {
        var e = assertThrows(IllegalArgumentException.class, () -> Vectors.cosine(new float[2], new float[3]));
        assertEquals("vectors of different lengths: 2 and 3", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Vectors.mean(List.of()));
    }
}
