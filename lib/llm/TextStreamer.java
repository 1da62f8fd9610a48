package llm;

import java.util.Arrays;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Turns generated token ids into text as they arrive. SentencePiece tokenizers (like Phi-3's) mark a
 * space as part of the next piece and drop it when a piece is decoded alone, so decoding token by token
 * loses spaces. Instead the growing sequence is decoded each time and only the new suffix is emitted.
 * While the text ends in an incomplete UTF-8 character (U+FFFD, from byte tokens still to come) it is
 * held back.
 */
public final class TextStreamer {

    private final Function<long[], String> decoder;
    private final Consumer<String> sink;
    private long[] ids = new long[64];
    private int count;
    private int emitted; // characters of the decoded text already given to the sink

    /** {@code decoder} turns ids into text (e.g. DJL's {@code tokenizer.decode(ids, true)}); {@code sink} receives each new piece. */
    public TextStreamer(Function<long[], String> decoder, Consumer<String> sink) {
        this.decoder = decoder;
        this.sink = sink;
    }

    /** Adds one generated id and emits whatever new text it completes. */
    public void accept(int id) {
        if (count == ids.length) ids = Arrays.copyOf(ids, count * 2);
        ids[count++] = id;
        emit(false);
    }

    /** Emits any text still held back (call once generation has ended). */
    public void flush() {
        emit(true);
    }

    /** All the text decoded so far. */
    public String text() {
        return decoder.apply(Arrays.copyOf(ids, count));
    }

    private void emit(boolean last) {
        String text = text();
        if (!last && text.endsWith("\uFFFD")) return;
        if (text.length() > emitted) {
            sink.accept(text.substring(emitted));
            emitted = text.length();
        }
    }
}
