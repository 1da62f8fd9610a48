package llm;

import java.util.random.RandomGenerator;

/**
 * BERT's training task (Devlin et al. 2018), the masked language model: pick 15 % of the tokens
 * (never the special ones such as [CLS] and [SEP]); of those, replace 80 % by [MASK], 10 % by a random
 * token and leave 10 % as they are. The model must predict the original token at every picked
 * position, and only there. The random and unchanged 10 % stop it from learning that only [MASK]
 * positions matter, since at use time there is no [MASK].
 *
 * <p>The draws are made the way Hugging Face's {@code DataCollatorForLanguageModeling} makes them: each
 * token is picked on its own with probability 15 % (so a short text may get none or several), then
 * 80 % of the picked become [MASK], then half of the rest become random.
 */
public final class MaskedLanguageModeling {

    /** The label of a position the loss ignores (PyTorch's and Hugging Face's convention). */
    public static final long IGNORE = -100;

    public static final double MASK_PROBABILITY = 0.15;
    public static final double REPLACE_WITH_MASK = 0.8;
    /** Of the picked tokens not turned into [MASK], the share that becomes a random token: 0.5 · 20 % = 10 %. */
    public static final double RANDOM_OF_THE_REST = 0.5;

    private MaskedLanguageModeling() {}

    /** What happened to one position. */
    public enum Action { KEPT_UNPICKED, MASKED, RANDOM, UNCHANGED }

    /**
     * The model's input and the labels: {@code labels[i]} is the original id where a token was
     * picked, {@link #IGNORE} elsewhere; {@code actions[i]} says what was done (for showing it).
     */
    public record Example(long[] inputIds, long[] labels, Action[] actions) {}

    /**
     * Masks {@code ids}. {@code special[i]} marks tokens never picked; {@code maskId} is [MASK];
     * random replacements are drawn from {@code 0 .. vocabularySize-1}.
     */
    public static Example mask(long[] ids, boolean[] special, long maskId, int vocabularySize, RandomGenerator random) {
        if (special.length != ids.length) throw new IllegalArgumentException(ids.length + " ids but " + special.length + " special flags");
        if (vocabularySize <= 0) throw new IllegalArgumentException("vocabulary size must be positive, got " + vocabularySize);
        long[] input = ids.clone();
        long[] labels = new long[ids.length];
        Action[] actions = new Action[ids.length];
        for (int i = 0; i < ids.length; i++) {
            labels[i] = IGNORE;
            actions[i] = Action.KEPT_UNPICKED;
            if (special[i] || random.nextDouble() >= MASK_PROBABILITY) continue;
            labels[i] = ids[i];
            if (random.nextDouble() < REPLACE_WITH_MASK) {
                input[i] = maskId;
                actions[i] = Action.MASKED;
            } else if (random.nextDouble() < RANDOM_OF_THE_REST) {
                input[i] = random.nextInt(vocabularySize);
                actions[i] = Action.RANDOM;
            } else {
                actions[i] = Action.UNCHANGED;
            }
        }
        return new Example(input, labels, actions);
    }
}
