//SOURCES Vectors.java
package llm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Bag-of-words: a vocabulary of every distinct token in some documents (in order of first
 * appearance), and each document as the count of each vocabulary token in it. Word order is gone:
 * "dog bites man" and "man bites dog" get the same vector.
 */
public final class BagOfWords {

    private final List<String> vocabulary;
    private final Map<String, Integer> index;

    private BagOfWords(List<String> vocabulary) {
        this.vocabulary = Collections.unmodifiableList(vocabulary);
        this.index = new HashMap<>();
        for (int i = 0; i < vocabulary.size(); i++) index.put(vocabulary.get(i), i);
    }

    /** The vocabulary of these documents (each a list of tokens), in order of first appearance. */
    public static BagOfWords fit(List<List<String>> documents) {
        LinkedHashMap<String, Boolean> seen = new LinkedHashMap<>();
        for (List<String> document : documents) for (String token : document) seen.putIfAbsent(token, true);
        return new BagOfWords(new ArrayList<>(seen.keySet()));
    }

    public List<String> vocabulary() {
        return vocabulary;
    }

    public int size() {
        return vocabulary.size();
    }

    /** How often each vocabulary token occurs in {@code tokens}; tokens outside the vocabulary are dropped. */
    public int[] vector(List<String> tokens) {
        int[] counts = new int[vocabulary.size()];
        for (String token : tokens) {
            Integer i = index.get(token);
            if (i != null) counts[i]++;
        }
        return counts;
    }

    /** The same counts as a sparse map (token → count), for vocabularies too large for dense vectors. */
    public static Map<String, Integer> counts(List<String> tokens) {
        Map<String, Integer> counts = new HashMap<>();
        for (String token : tokens) counts.merge(token, 1, Integer::sum);
        return counts;
    }

    /** Cosine similarity of two sparse count maps: the same number {@link Vectors#cosine(int[], int[])} gives. */
    public static double cosine(Map<String, Integer> a, Map<String, Integer> b) {
        Map<String, Integer> small = a.size() <= b.size() ? a : b, large = small == a ? b : a;
        long dot = 0;
        for (var e : small.entrySet()) {
            Integer other = large.get(e.getKey());
            if (other != null) dot += (long) e.getValue() * other;
        }
        double na = sumOfSquares(a), nb = sumOfSquares(b);
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }

    /** One search hit: the document's index and its cosine similarity to the query. */
    public record Hit(int document, double score) {}

    /**
     * The {@code k} documents most similar to the query by bag-of-words cosine, best first (ties: the
     * earlier document first). Documents that share no token with the query are never returned.
     */
    public static List<Hit> search(List<String> query, List<Map<String, Integer>> documents, int k) {
        Map<String, Integer> q = counts(query);
        List<Hit> hits = new ArrayList<>();
        for (int i = 0; i < documents.size(); i++) {
            double score = cosine(q, documents.get(i));
            if (score > 0) hits.add(new Hit(i, score));
        }
        hits.sort((x, y) -> x.score() != y.score() ? Double.compare(y.score(), x.score()) : Integer.compare(x.document(), y.document()));
        return hits.subList(0, Math.min(k, hits.size()));
    }

    private static double sumOfSquares(Map<String, Integer> counts) {
        double sum = 0;
        for (int c : counts.values()) sum += (double) c * c;
        return sum;
    }
}
