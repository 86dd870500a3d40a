package dev.finetune.llm.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript module archive as {@code torch.jit.save} lays it out, for a module that holds no
 * tensors of its own: its class as TorchScript source ({@code code/__torch__.py}), and its state
 * ({@code data.pkl}) the pickled object with {@code training} and one empty tensor list per named
 * attribute, which a method of the module fills at run time. libtorch compiles the source when it
 * loads the archive ({@code torch::jit::load}), so a graph built here runs in the engine with no
 * Python anywhere.
 *
 * <p>The entries are stored uncompressed under one top-level folder, as libtorch's reader expects;
 * the pickles use protocol 2 and only the opcodes libtorch's unpickler reads.
 */
final class TorchScriptArchive {
    /** The serialisation format version of archives without tensor data (torch writes 3 for these). */
    private static final String FORMAT_VERSION = "3\n";

    // The pickle opcodes used (Python's pickletools names them).
    private static final byte PROTO = (byte) 0x80;
    private static final byte GLOBAL = 'c';
    private static final byte EMPTY_TUPLE = ')';
    private static final byte NEWOBJ = (byte) 0x81;
    private static final byte EMPTY_DICT = '}';
    private static final byte EMPTY_LIST = ']';
    private static final byte MARK = '(';
    private static final byte BINUNICODE = 'X';
    private static final byte NEWTRUE = (byte) 0x88;
    private static final byte APPENDS = 'e';
    private static final byte TUPLE = 't';
    private static final byte REDUCE = 'R';
    private static final byte SETITEMS = 'u';
    private static final byte BUILD = 'b';
    private static final byte STOP = '.';

    private TorchScriptArchive() {}

    /**
     * The archive of {@code __torch__.<className>} defined by {@code source}, whose attributes {@code
     * tensorLists} (each declared {@code List[Tensor]} in the source) start empty.
     */
    static byte[] write(String className, String source, List<String> tensorLists) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            String folder = "compiled/";
            stored(zip, folder + "data.pkl", state(className, tensorLists));
            stored(zip, folder + "code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            stored(zip, folder + "constants.pkl", new byte[] {PROTO, 2, EMPTY_TUPLE, STOP});
            stored(zip, folder + "version", FORMAT_VERSION.getBytes(StandardCharsets.US_ASCII));
            stored(zip, folder + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
        } catch (IOException e) {
            throw new UncheckedIOException("writing a TorchScript archive in memory", e);
        }
        return bytes.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] content) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(content.length);
        CRC32 crc = new CRC32();
        crc.update(content);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(content);
        zip.closeEntry();
    }

    /**
     * {@code data.pkl}: {@code __torch__.<className>()} with state {@code {"training": True, name:
     * build_tensorlist([]) ...}}, as torch pickles a scripted module whose attributes are empty tensor
     * lists.
     */
    private static byte[] state(String className, List<String> tensorLists) {
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(PROTO);
        pickle.write(2);
        global(pickle, "__torch__", className);
        pickle.write(EMPTY_TUPLE);
        pickle.write(NEWOBJ);
        pickle.write(EMPTY_DICT);
        pickle.write(MARK);
        string(pickle, "training");
        pickle.write(NEWTRUE);
        for (String name : tensorLists) {
            string(pickle, name);
            global(pickle, "torch.jit._pickle", "build_tensorlist");
            pickle.write(MARK);
            pickle.write(EMPTY_LIST);
            pickle.write(MARK);
            pickle.write(APPENDS);
            pickle.write(TUPLE);
            pickle.write(REDUCE);
        }
        pickle.write(SETITEMS);
        pickle.write(BUILD);
        pickle.write(STOP);
        return pickle.toByteArray();
    }

    private static void global(ByteArrayOutputStream pickle, String module, String name) {
        pickle.write(GLOBAL);
        pickle.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void string(ByteArrayOutputStream pickle, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        pickle.write(BINUNICODE);
        for (int shift = 0; shift < 32; shift += 8) { // length, 4 bytes little-endian
            pickle.write(utf8.length >>> shift);
        }
        pickle.writeBytes(utf8);
    }
}
