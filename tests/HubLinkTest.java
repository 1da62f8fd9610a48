package llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot entry: a relative symlink where the file system allows it, else what huggingface_hub does. */
class HubLinkTest {

    @TempDir Path repo;

    @Test
    void aSnapshotEntryIsARelativeSymlinkToTheBlob() throws Exception {
        Path blob = blob("abc123", "bytes");
        Path pointer = repo.resolve("snapshots/c0ffee/sub/dir/file.bin");
        Hub.linkSnapshot(blob, pointer, true, true);

        assertEquals(Path.of("../../../../blobs/abc123"), Files.readSymbolicLink(pointer));
        assertEquals("bytes", Files.readString(pointer));
        Hub.linkSnapshot(blob, pointer, false, true); // again: replaces its own link
        assertEquals(Path.of("../../../../blobs/abc123"), Files.readSymbolicLink(pointer));
    }

    @Test
    void withoutSymlinksANewBlobMovesIntoTheSnapshot() throws Exception {
        Path blob = blob("abc123", "bytes");
        Path pointer = repo.resolve("snapshots/c0ffee/file.bin");
        Hub.linkSnapshot(blob, pointer, true, false);

        assertFalse(Files.exists(blob), "moved, not copied: a multi-GB file is not stored twice");
        assertFalse(Files.isSymbolicLink(pointer));
        assertEquals("bytes", Files.readString(pointer));
    }

    @Test
    void withoutSymlinksASharedBlobIsCopiedAndNoTemporaryFileStays() throws Exception {
        Path blob = blob("abc123", "bytes");
        Path pointer = repo.resolve("snapshots/c0ffee/file.bin");
        Hub.linkSnapshot(blob, pointer, false, false);

        assertEquals("bytes", Files.readString(blob), "other snapshots may point at it");
        assertFalse(Files.isSymbolicLink(pointer));
        assertEquals("bytes", Files.readString(pointer));
        try (Stream<Path> files = Files.list(pointer.getParent())) {
            assertEquals(List.of("file.bin"), files.map(p -> p.getFileName().toString()).toList());
        }
    }

    @Test
    void etagsAreUnquotedAsTheHubSendsThem() {
        assertEquals("abc", Hub.normalizeEtag("\"abc\""));
        assertEquals("abc", Hub.normalizeEtag("W/\"abc\""));
        assertEquals("abc", Hub.normalizeEtag("abc"));
        assertEquals(null, Hub.normalizeEtag("\"\""));
        assertEquals("models--microsoft--Phi-3-mini-4k-instruct-gguf", Hub.folderName("microsoft/Phi-3-mini-4k-instruct-gguf"));
        assertEquals("models--gpt2", Hub.folderName("gpt2"));
    }

    private Path blob(String etag, String text) throws Exception {
        Path blob = repo.resolve("blobs").resolve(etag);
        Files.createDirectories(blob.getParent());
        Files.writeString(blob, text);
        return blob;
    }
}
