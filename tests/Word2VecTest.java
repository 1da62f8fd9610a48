import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import llm.Corpus;
import llm.CorpusException;
import llm.Word2Vec;
import llm.WordVectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trains once on tiny Shakespeare with a smaller, faster setting than the lesson's (about 3 s). */
class Word2VecTest {

    static final Word2Vec.Params FAST = Word2Vec.Params.defaults().withDimensions(50).withEpochs(4);
    static final String[][] RELATED = {
            {"king", "queen"}, {"love", "hate"}, {"father", "mother"}, {"day", "night"}, {"man", "woman"},
            {"lord", "lady"}, {"brother", "sister"}, {"son", "daughter"}, {"husband", "wife"}, {"war", "peace"}};

    static List<String> words;
    static WordVectors vectors;
    static final List<Double> epochLoss = new ArrayList<>();
    static final List<Double> reportedLoss = new ArrayList<>();

    @BeforeAll
    static void train() {
        words = Corpus.tinyShakespeare().words();
        vectors = Word2Vec.train(words, FAST, new Word2Vec.Listener() {
            @Override public void progress(long done, long total, double loss) { reportedLoss.add(loss); }
            @Override public void epochFinished(int epoch, double loss) { epochLoss.add(loss); }
        });
    }

    @Test
    void lossStartsAtLn2AndFalls() {
        assertEquals(FAST.epochs(), epochLoss.size());
        assertEquals(FAST.epochs() * 20, reportedLoss.size());
        // At the start every input·output is about 0, σ = 1/2, so each prediction costs ln 2.
        assertEquals(Math.log(2), reportedLoss.getFirst(), 0.03);
        assertTrue(epochLoss.getLast() < epochLoss.getFirst() - 0.03, "epoch losses " + epochLoss);
        assertTrue(reportedLoss.getLast() < reportedLoss.getFirst() - 0.2, "first and last reports: " + reportedLoss);
    }

    @Test
    void vocabularyKeepsWordsSeenAtLeastThreeTimesMostFrequentFirst() {
        assertEquals(50, vectors.dimensions());
        // Counted independently: 4,984 distinct lower-case words occur 3 or more times in tiny Shakespeare.
        assertEquals(4984, vectors.size());
        assertEquals("the", vectors.words().getFirst());
        assertTrue(vectors.contains("bank"), "bank occurs exactly 3 times");
        assertEquals(3, vectors.count("bank"));
        assertFalse(vectors.contains("river"), "river occurs once");
    }

    @Test
    void relatedPairsScoreAboveRandomPairs() {
        double related = 0;
        for (String[] pair : RELATED) related += vectors.similarity(pair[0], pair[1]);
        related /= RELATED.length;
        // The same words, paired wrongly (king/night, love/woman, ...).
        double mismatched = 0;
        for (int i = 0; i < RELATED.length; i++) mismatched += vectors.similarity(RELATED[i][0], RELATED[(i + 3) % RELATED.length][1]);
        mismatched /= RELATED.length;
        Random random = new Random(7);
        double randomPairs = 0;
        int n = 2000;
        for (int i = 0; i < n; i++)
            randomPairs += vectors.similarity(vectors.words().get(random.nextInt(vectors.size())), vectors.words().get(random.nextInt(vectors.size())));
        randomPairs /= n;
        // Measured at about 0.5 against about 0.0: the margin asked for is well inside that gap.
        assertTrue(related > randomPairs + 0.25, "related " + related + " vs random " + randomPairs);
        assertTrue(related > mismatched + 0.25, "related " + related + " vs mismatched " + mismatched);
    }

    @Test
    void sameSeedSameVectorsOtherSeedOtherVectors() {
        List<String> small = words.subList(0, 20_000);
        Word2Vec.Params tiny = Word2Vec.Params.defaults().withDimensions(16).withEpochs(2);
        WordVectors a = Word2Vec.train(small, tiny, Word2Vec.Listener.NONE);
        WordVectors b = Word2Vec.train(small, tiny, Word2Vec.Listener.NONE);
        WordVectors c = Word2Vec.train(small, tiny.withSeed(43), Word2Vec.Listener.NONE);
        assertEquals(a.words(), b.words());
        for (String w : a.words()) assertArrayEquals(a.vector(w), b.vector(w), w);
        assertFalse(java.util.Arrays.equals(a.vector("rome"), c.vector("rome")));
    }

    @Test
    void secondRunLoadsFromTheCache(@TempDir Path cache) throws Exception {
        List<String> small = words.subList(0, 20_000);
        Word2Vec.Params tiny = Word2Vec.Params.defaults().withDimensions(16).withEpochs(1);
        int[] reports = {0};
        Word2Vec.Listener counting = (done, total, loss) -> reports[0]++;
        WordVectors first = Word2Vec.trainOrLoad(small, tiny, cache, counting);
        assertEquals(20, reports[0]);
        Path file = Word2Vec.cacheFile(small, tiny, cache);
        assertTrue(Files.isRegularFile(file));
        assertTrue(file.getFileName().toString().matches("word2vec-[0-9a-f]{24}\\.bin"), file.toString());

        WordVectors second = Word2Vec.trainOrLoad(small, tiny, cache, counting);
        assertEquals(20, reports[0], "no training the second time");
        assertArrayEquals(first.vector("rome"), second.vector("rome"));

        // Other parameters or other text: another file.
        assertFalse(file.equals(Word2Vec.cacheFile(small, tiny.withSeed(1), cache)));
        assertFalse(file.equals(Word2Vec.cacheFile(words.subList(0, 19_999), tiny, cache)));

        // A damaged cache file is trained over.
        Files.writeString(file, "garbage");
        WordVectors third = Word2Vec.trainOrLoad(small, tiny, cache, counting);
        assertEquals(40, reports[0]);
        assertArrayEquals(first.vector("rome"), third.vector("rome"));
    }

    @Test
    void aRecipeNamedCacheNeverMakesTheTokensTwice(@TempDir Path cache) throws Exception {
        Word2Vec.Params tiny = Word2Vec.Params.defaults().withDimensions(16).withEpochs(1);
        int[] made = {0};
        java.util.function.Supplier<List<String>> tokens = () -> {
            made[0]++;
            return words.subList(0, 20_000);
        };
        WordVectors first = Word2Vec.trainOrLoad("first 20,000 words", tokens, tiny, cache, Word2Vec.Listener.NONE);
        WordVectors second = Word2Vec.trainOrLoad("first 20,000 words", tokens, tiny, cache, Word2Vec.Listener.NONE);
        assertEquals(1, made[0], "the second run loads without making the tokens");
        assertArrayEquals(first.vector("rome"), second.vector("rome"));
        assertFalse(Word2Vec.cacheFile("first 20,000 words", tiny, cache).equals(Word2Vec.cacheFile("other", tiny, cache)));
        assertFalse(Word2Vec.cacheFile("first 20,000 words", tiny, cache).equals(Word2Vec.cacheFile("first 20,000 words", tiny.withSeed(1), cache)));
    }

    @Test
    void badParametersAndTooLittleText() {
        assertEquals("word2vec: dimensions must be 1..4096, got 0",
                assertThrows(IllegalArgumentException.class, () -> Word2Vec.Params.defaults().withDimensions(0)).getMessage());
        assertEquals("the text is too small to train word2vec on: 1 distinct word(s) occur at least 3 times",
                assertThrows(CorpusException.class, () -> Word2Vec.train(List.of("a", "a", "a", "b"), Word2Vec.Params.defaults(), Word2Vec.Listener.NONE)).getMessage());
    }
}
