package llm;

/**
 * A download from the Hugging Face Hub, or a look-up in its local cache, failed. The message is
 * one line meant for the user: what went wrong, for which repo and file, and what to do next.
 */
public final class HubException extends RuntimeException {

    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
