package llm;

import java.util.List;

/**
 * Phi-3's chat template, as its tokenizer_config.json writes it: every message becomes
 * {@code <|role|>\n{content}<|end|>\n}, and a prompt for the model's answer ends with
 * {@code <|assistant|>\n}. The special tokens are then found by the tokenizer (ids 32006 system,
 * 32010 user, 32001 assistant, 32007 end).
 */
public final class ChatTemplate {

    private ChatTemplate() {}

    /** One turn of a conversation. Roles: {@code system}, {@code user}, {@code assistant}. */
    public record Message(String role, String content) {
        public Message {
            if (!role.equals("system") && !role.equals("user") && !role.equals("assistant"))
                throw new IllegalArgumentException("chat role must be system, user or assistant, got '" + role + "'");
        }
        public static Message system(String content) { return new Message("system", content); }
        public static Message user(String content) { return new Message("user", content); }
        public static Message assistant(String content) { return new Message("assistant", content); }
    }

    /** {@code <|user|>\n{message}<|end|>\n<|assistant|>\n}, with {@code <|system|>\n{system}<|end|>\n} first when system is not null or blank. */
    public static String phi3(String system, String message) {
        return system == null || system.isBlank()
                ? phi3(List.of(Message.user(message)))
                : phi3(List.of(Message.system(system), Message.user(message)));
    }

    /** A whole conversation, ending with the prompt for the assistant's next answer. */
    public static String phi3(List<Message> messages) {
        StringBuilder text = new StringBuilder();
        for (Message m : messages) text.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|end|>\n");
        return text.append("<|assistant|>\n").toString();
    }
}
