package llm;

/** A corpus that cannot be read; the message is one line meant for the user. */
public final class CorpusException extends RuntimeException {
    public CorpusException(String message) {
        super(message);
    }
}
