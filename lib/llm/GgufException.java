package llm;

/**
 * A model file we cannot use: not GGUF, truncated, inconsistent, or asking for something we do not support.
 * The message is one line that names the file and the reason, e.g. {@code model.gguf: tensor 'x' not found}.
 */
public final class GgufException extends RuntimeException {

    public GgufException(String message) {
        super(oneLine(message));
    }

    public GgufException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /**
     * The message with line breaks and other control characters written as escapes (a line feed as backslash n,
     * an ESC as backslash u001B): names and values quoted from a hostile file could otherwise break the line or
     * drive the terminal.
     */
    static String oneLine(String message) {
        if (message == null) {
            return null;
        }
        StringBuilder sb = null;
        for (int i = 0; i < message.length(); i++) {
            char c = message.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                if (sb == null) {
                    sb = new StringBuilder(message.length() + 16).append(message, 0, i);
                }
                sb.append(switch (c) {
                    case '\n' -> "\\n";
                    case '\r' -> "\\r";
                    case '\t' -> "\\t";
                    default -> String.format("\\u%04X", (int) c);
                });
            } else if (sb != null) {
                sb.append(c);
            }
        }
        return sb == null ? message : sb.toString();
    }
}
