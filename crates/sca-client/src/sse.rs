//! Server-sent events (the HTML standard's `text/event-stream`), as the bank sends them on a
//! device's push stream and on a page's operation stream: bytes in, whole blocks out.

/// One block of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseItem {
    /// An event with its data (`event:` defaults to `message`; `data:` lines joined by `\n`).
    Event {
        /// The `event:` field.
        event: String,
        /// The `data:` lines.
        data: String,
    },
    /// A block of comments only (`: …`): the server's heartbeat.
    Comment,
}

/// An incremental parser. A block is cut on bytes, so a UTF-8 character split between chunks
/// stays whole; the buffer is bounded (1 MiB), so a hostile server cannot make a client hold
/// gigabytes.
#[derive(Default, Debug)]
pub struct SseParser {
    buffer: Vec<u8>,
}

/// What a block may grow to before the parser drops it.
const BUFFER_MAX: usize = 1 << 20;

impl SseParser {
    /// Takes the next chunk; returns the blocks it completed, in order.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseItem> {
        self.buffer.extend_from_slice(chunk);
        let mut out = Vec::new();
        while let Some((end, separator)) = block_end(&self.buffer) {
            let block: Vec<u8> = self.buffer.drain(..end + separator).collect();
            let text = String::from_utf8_lossy(&block[..end]).replace("\r\n", "\n");
            let (mut event, mut data, mut comment) = (String::from("message"), Vec::new(), false);
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim_start().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                } else if line.starts_with(':') {
                    comment = true;
                }
            }
            if !data.is_empty() {
                out.push(SseItem::Event {
                    event,
                    data: data.join("\n"),
                });
            } else if comment {
                out.push(SseItem::Comment);
            }
        }
        if self.buffer.len() > BUFFER_MAX {
            self.buffer.clear();
        }
        out
    }
}

/// Where the first block ends, and the length of its blank-line separator.
fn block_end(bytes: &[u8]) -> Option<(usize, usize)> {
    (0..bytes.len()).find_map(|i| {
        if bytes[i..].starts_with(b"\n\n") {
            Some((i, 2))
        } else if bytes[i..].starts_with(b"\r\n\r\n") {
            Some((i, 4))
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(event: &str, data: &str) -> SseItem {
        SseItem::Event {
            event: event.into(),
            data: data.into(),
        }
    }

    #[test]
    fn split_chunks_comments_and_multiline_data() {
        let mut p = SseParser::default();
        assert_eq!(
            p.push(b": heartbeat\n\nevent: operation\ndata: {\"op_id\":"),
            vec![SseItem::Comment]
        );
        let got = p.push(b"\"1\",\"payload\":\"x\"}\n\nevent: status\r\ndata: a\r\ndata: b\r\n\r\n");
        assert_eq!(
            got,
            vec![
                event("operation", "{\"op_id\":\"1\",\"payload\":\"x\"}"),
                event("status", "a\nb"),
            ]
        );
        let euro = "event: status\ndata: {\"op_id\":\"€\",\"status\":\"x\"}\n\n".as_bytes();
        let (a, b) = euro.split_at(euro.len() - 19); // inside the 3 bytes of €
        assert!(p.push(a).is_empty());
        assert_eq!(p.push(b), vec![event("status", "{\"op_id\":\"€\",\"status\":\"x\"}")]);
        assert_eq!(p.push(b"data:plain\n\n"), vec![event("message", "plain")]);
    }

    #[test]
    fn an_endless_block_is_dropped_not_kept() {
        let mut p = SseParser::default();
        assert!(p.push(&vec![b'x'; BUFFER_MAX + 1]).is_empty());
        assert_eq!(p.push(b"data: after\n\n"), vec![event("message", "after")]);
    }
}
