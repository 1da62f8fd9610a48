package llm;

/** A tokenizer that cannot be found or read; the message is one line meant for the user. */
public final class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }
}
