package llm;

/**
 * A model file we cannot use: not GGUF, truncated, inconsistent, or asking for something we do not support.
 * The message is one line that names the file and the reason, e.g. {@code model.gguf: tensor 'x' not found}.
 */
public final class GgufException extends RuntimeException {

    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
