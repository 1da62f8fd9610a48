import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import llm.CorpusException;
import llm.WordVectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordVectorsTest {

    /** Four 2-d words: king and queen differ from man and woman by the same step (0, 1). */
    private static WordVectors toy() {
        return new WordVectors(List.of("man", "woman", "king", "queen"), new long[] {9, 8, 7, 6}, 2,
                new float[] {1, 0, 1, 1, 3, 0.2f, 3, 1.2f});
    }

    @Test
    void similarityAndNeighbours() {
        WordVectors v = toy();
        assertEquals(2, v.dimensions());
        assertEquals(4, v.size());
        assertEquals(8, v.count("woman"));
        assertEquals(0, v.count("dog"));
        // man (1,0) and woman (1,1): 45 degrees.
        assertEquals(Math.sqrt(0.5), v.similarity("man", "woman"), 1e-6);
        List<WordVectors.Neighbour> near = v.nearest("man", 3);
        assertEquals(List.of("king", "queen", "woman"), near.stream().map(WordVectors.Neighbour::word).toList());
        assertTrue(near.get(0).similarity() >= near.get(1).similarity() && near.get(1).similarity() >= near.get(2).similarity());
        assertEquals(1, v.nearest(new float[] {0, 1}, 1, List.of()).size());
    }

    @Test
    void analogyLeavesOutTheQuestionWords() {
        // man : woman :: king : ?  -> unit(woman) - unit(man) + unit(king) points at queen.
        assertEquals("queen", toy().analogy("man", "woman", "king", 1).getFirst().word());
    }

    @Test
    void saveAndLoadRoundTrip(@TempDir Path dir) throws Exception {
        WordVectors v = toy();
        Path file = dir.resolve("sub/v.bin");
        v.save(file);
        WordVectors back = WordVectors.load(file);
        assertEquals(v.words(), back.words());
        assertEquals(6, back.count("queen"));
        assertArrayEquals(v.vector("queen"), back.vector("queen"));
        try (var files = Files.list(file.getParent())) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void damagedFilesAndUnknownWordsGiveOneLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("v.bin");
        toy().save(file);
        byte[] bytes = Files.readAllBytes(file);
        Path cut = Files.write(dir.resolve("cut.bin"), java.util.Arrays.copyOf(bytes, bytes.length - 3));
        assertEquals(cut + ": damaged word-vector file (cut short)", assertThrows(CorpusException.class, () -> WordVectors.load(cut)).getMessage());
        Path other = Files.writeString(dir.resolve("other.bin"), "hello, not vectors");
        assertEquals(other + ": not a word-vector file of ours", assertThrows(CorpusException.class, () -> WordVectors.load(other)).getMessage());
        assertFalse(toy().contains("dog"));
        assertEquals("\"dog\" is not in the vocabulary", assertThrows(IllegalArgumentException.class, () -> toy().vector("dog")).getMessage());
    }
}
