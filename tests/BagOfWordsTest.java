import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import llm.BagOfWords;
import llm.Corpus;
import llm.Vectors;
import org.junit.jupiter.api.Test;

class BagOfWordsTest {

    private static final List<String> DOG = Corpus.words("That is a cute dog");
    private static final List<String> CAT = Corpus.words("My cat is cute");

    @Test
    void theCourseExampleByHand() {
        BagOfWords bow = BagOfWords.fit(List.of(DOG, CAT));
        assertEquals(List.of("that", "is", "a", "cute", "dog", "my", "cat"), bow.vocabulary());
        assertArrayEquals(new int[] {1, 1, 1, 1, 1, 0, 0}, bow.vector(DOG));
        assertArrayEquals(new int[] {0, 1, 0, 1, 0, 1, 1}, bow.vector(CAT));
        // "is" and "cute" are shared: dot 2, lengths √5 and √4.
        assertEquals(2 / Math.sqrt(5 * 4), Vectors.cosine(bow.vector(DOG), bow.vector(CAT)), 1e-12);
        assertEquals(0.4472135955, Vectors.cosine(bow.vector(DOG), bow.vector(CAT)), 1e-10);
    }

    @Test
    void wordOrderIsLostAndSynonymsShareNothing() {
        BagOfWords bow = BagOfWords.fit(List.of(Corpus.words("dog bites man"), Corpus.words("man bites dog")));
        assertArrayEquals(bow.vector(Corpus.words("dog bites man")), bow.vector(Corpus.words("man bites dog")));
        BagOfWords cute = BagOfWords.fit(List.of(List.of("cute"), List.of("adorable")));
        assertEquals(0.0, Vectors.cosine(cute.vector(List.of("cute")), cute.vector(List.of("adorable"))));
    }

    @Test
    void countsAndWordsOutsideTheVocabulary() {
        BagOfWords bow = BagOfWords.fit(List.of(List.of("a", "b")));
        assertArrayEquals(new int[] {2, 1}, bow.vector(List.of("a", "b", "a", "zebra")));
    }

    @Test
    void sparseCosineEqualsDenseCosine() {
        Map<String, Integer> dog = BagOfWords.counts(DOG), cat = BagOfWords.counts(CAT);
        assertEquals(2 / Math.sqrt(20), BagOfWords.cosine(dog, cat), 1e-12);
        assertEquals(2 / Math.sqrt(20), BagOfWords.cosine(cat, dog), 1e-12);
        assertEquals(0.0, BagOfWords.cosine(dog, Map.of()));
    }

    @Test
    void searchRanksByCosineAndSkipsDocumentsWithNothingInCommon() {
        List<Map<String, Integer>> docs = List.of(
                BagOfWords.counts(List.of("the", "cat", "sat")),   // shares "cat": 1/(√2·√3) = 0.408
                BagOfWords.counts(List.of("a", "bird", "sang")),   // shares nothing
                BagOfWords.counts(List.of("cat", "dog")));         // shares both: 2/(√2·√2) = 1
        List<BagOfWords.Hit> hits = BagOfWords.search(List.of("cat", "dog"), docs, 5);
        assertEquals(2, hits.size());
        assertEquals(2, hits.get(0).document());
        assertEquals(1.0, hits.get(0).score(), 1e-12);
        assertEquals(0, hits.get(1).document());
        assertEquals(1 / Math.sqrt(6), hits.get(1).score(), 1e-12);
        assertEquals(1, BagOfWords.search(List.of("cat", "dog"), docs, 1).size());
        assertTrue(BagOfWords.search(List.of("zebra"), docs, 3).isEmpty());
    }
}
