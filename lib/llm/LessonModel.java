//SOURCES Phi3.java
//SOURCES ModelFiles.java
//SOURCES Tokenizers.java
package llm;

import java.nio.file.Path;
import java.util.Optional;

/**
 * The Phi-3 model that a lesson's "(model)" parts use, with its tokenizer. A file the learner names
 * with {@code --model} is used as given (a Hub name is downloaded if needed, as {@code phi3} does);
 * without {@code --model} a lesson only looks in the Hugging Face cache and never downloads, and the
 * parts that need the model say so in one line ({@link #NEEDS}) while the rest runs.
 */
public final class LessonModel implements AutoCloseable {

    /** What a part without its model prints after its name. */
    public static final String NEEDS = "needs Phi-3-mini: run ./jbang phi3 once to download it, or pass --model PATH";

    private final Phi3 model;
    private final Tokenizer tokenizer;
    private final Path file;
    private final boolean addBos;

    private LessonModel(Phi3 model, Tokenizer tokenizer, Path file) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.file = file;
        // Like llama.cpp (and `phi3`): a <s> goes first when the file says so; the shipped tokenizer.json adds none.
        this.addBos = Boolean.TRUE.equals(model.gguf().metadata().get("tokenizer.ggml.add_bos_token"));
    }

    /**
     * The learner's {@code --model} (null: not given), else Phi-3-mini's q4 or fp16 file if the Hugging
     * Face cache has one, else empty.
     */
    public static Optional<LessonModel> open(String model, Hub hub, Hub.Listener progress) {
        Optional<Path> file = model != null
                ? Optional.of(ModelFiles.resolve(model, hub, progress))
                : ModelFiles.local("q4", hub).or(() -> ModelFiles.local("fp16", hub));
        if (file.isEmpty()) return Optional.empty();
        Phi3 phi3 = Phi3.load(file.get());
        try {
            return Optional.of(new LessonModel(phi3, Tokenizers.load(Tokenizers.PHI3, hub, progress), file.get()));
        } catch (RuntimeException e) {
            phi3.close();
            throw e;
        }
    }

    public Phi3 model() { return model; }
    public Tokenizer tokenizer() { return tokenizer; }
    public Path file() { return file; }

    /** The ids the model gets for {@code text}: {@code <s>} (1) first when the file asks for it. */
    public int[] promptIds(String text) {
        long[] ids = tokenizer.encode(text, true);
        int shift = addBos ? 1 : 0;
        int[] prompt = new int[ids.length + shift];
        if (addBos) prompt[0] = 1;
        for (int i = 0; i < ids.length; i++) prompt[i + shift] = Math.toIntExact(ids[i]);
        return prompt;
    }

    /** One token's text, as the tokenizer decodes it on its own. */
    public String text(int id) {
        return tokenizer.decode(new long[] {id});
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
