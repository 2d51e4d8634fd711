//! Splits a byte stream into chunks that end on record boundaries, so chunks can be parsed in
//! parallel. A newline inside a quoted field is not a boundary (quote parity is tracked; an
//! escaped `""` flips it twice). Chunk sizes do not depend on the number of threads.
use std::io::Read;

/// A run of whole records and the physical line its first record starts on.
#[derive(Debug)]
pub struct Chunk {
    /// The bytes, ending just after a record's newline (or at end of input).
    pub bytes: Vec<u8>,
    /// 1-based line number of the first byte.
    pub first_line: u64,
    /// Byte offset of the first byte in the stream.
    pub offset: u64,
}

/// Reads whole-record chunks from a stream.
pub struct Chunker<R> {
    reader: R,
    buf: Vec<u8>,
    next_line: u64,
    next_offset: u64,
    eof: bool,
    quoting: bool,
}

impl<R: Read> Chunker<R> {
    /// A chunker over `reader`; `quoting` says whether `"` quotes fields.
    pub fn new(reader: R, quoting: bool) -> Self {
        Chunker {
            reader,
            buf: Vec::new(),
            next_line: 1,
            next_offset: 0,
            eof: false,
            quoting,
        }
    }

    fn fill_to(&mut self, len: usize) -> std::io::Result<()> {
        while self.buf.len() < len && !self.eof {
            let old = self.buf.len();
            let want = (len - old).max(64 * 1024);
            self.buf.resize(old + want, 0);
            let n = loop {
                match self.reader.read(&mut self.buf[old..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + n);
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// The end of the last (or, with `first_only`, the first) complete record in `buf`.
    fn boundary(&self, first_only: bool) -> Option<usize> {
        let b = &self.buf;
        let mut last = None;
        if !self.quoting {
            return if first_only {
                memchr::memchr(b'\n', b).map(|i| i + 1)
            } else {
                memchr::memrchr(b'\n', b).map(|i| i + 1)
            };
        }
        let mut in_quotes = false;
        for i in memchr::memchr2_iter(b'"', b'\n', b) {
            if b[i] == b'"' {
                in_quotes = !in_quotes;
            } else if !in_quotes {
                last = Some(i + 1);
                if first_only {
                    break;
                }
            }
        }
        last
    }

    /// The next chunk of about `target` bytes (at least one whole record), or `None` at the end.
    pub fn next_chunk(&mut self, target: usize) -> std::io::Result<Option<Chunk>> {
        self.take(target, false)
    }

    /// The next single record (used for the header).
    pub fn next_record(&mut self) -> std::io::Result<Option<Chunk>> {
        self.take(64 * 1024, true)
    }

    fn take(&mut self, target: usize, first_only: bool) -> std::io::Result<Option<Chunk>> {
        let mut want = target.max(1);
        loop {
            self.fill_to(want)?;
            if self.buf.is_empty() {
                return Ok(None);
            }
            let cut = match self.boundary(first_only) {
                Some(c) => Some(c),
                None if self.eof => Some(self.buf.len()),
                None => None,
            };
            if let Some(cut) = cut {
                let rest = self.buf.split_off(cut);
                let bytes = std::mem::replace(&mut self.buf, rest);
                let first_line = self.next_line;
                let offset = self.next_offset;
                self.next_line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                self.next_offset += bytes.len() as u64;
                return Ok(Some(Chunk {
                    bytes,
                    first_line,
                    offset,
                }));
            }
            want = self.buf.len() * 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(data: &[u8], target: usize, quoting: bool) -> Vec<(Vec<u8>, u64)> {
        let mut c = Chunker::new(data, quoting);
        let mut out = vec![];
        while let Some(ch) = c.next_chunk(target).unwrap() {
            out.push((ch.bytes, ch.first_line));
        }
        out
    }

    #[test]
    fn chunks_cover_input_and_end_on_records() {
        let data = b"a,b\n1,\"x\ny\"\n2,z\n3,\"q\"\"\n\"\n4,w";
        for target in 1..data.len() + 2 {
            let cs = chunks(data, target, true);
            let joined: Vec<u8> = cs.iter().flat_map(|c| c.0.clone()).collect();
            assert_eq!(joined, data.to_vec());
            for (bytes, _) in &cs[..cs.len() - 1] {
                assert_eq!(*bytes.last().unwrap(), b'\n');
                let quotes = bytes.iter().filter(|&&b| b == b'"').count();
                assert_eq!(quotes % 2, 0, "chunk splits a quoted field: {bytes:?}");
            }
            // Line numbers: line of first byte = 1 + newlines before it.
            let mut seen = 0u64;
            for (bytes, line) in &cs {
                assert_eq!(*line, 1 + seen);
                seen += bytes.iter().filter(|&&b| b == b'\n').count() as u64;
            }
        }
    }

    #[test]
    fn header_is_first_record() {
        let mut c = Chunker::new(&b"\"a\nb\",c\n1,2\n"[..], true);
        let h = c.next_record().unwrap().unwrap();
        assert_eq!(h.bytes, b"\"a\nb\",c\n");
        let rest = c.next_chunk(100).unwrap().unwrap();
        assert_eq!(rest.first_line, 3);
        assert!(c.next_chunk(100).unwrap().is_none());
    }
}
