//! Pseudonymizing a table as a stream, in constant memory, on every core: one thread reads
//! chunks of rows (CSV after its header, or JSON lines), workers pseudonymize chunks in
//! parallel, and the calling thread writes their output in the input's order. A bad row stops
//! the run with the first error in file order; what was written by then is the caller's to
//! discard (the CLI writes to a temporary file and renames it only on success).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use super::plan::{Counts, Plan};
use super::rows::{self, Chunk, Done, JsonLines};
use crate::anonymity::Format;
use crate::csv_input;
use crate::error::{Error, Result};

/// A failed write, named as the output (the CLI adds the file's name).
fn written(source: std::io::Error) -> Error {
    Error::Io {
        file: "the output".into(),
        source,
    }
}

impl Plan<'_> {
    fn io(&self, source: std::io::Error) -> Error {
        Error::Io {
            file: self.file.clone(),
            source,
        }
    }

    /// Reads `input`, writes it with the target columns pseudonymized to `output`, and calls
    /// `progress` with the input bytes consumed after each chunk written.
    pub fn run(
        &self,
        input: impl Read + Send,
        output: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Counts> {
        if self.targets.is_empty() {
            return Err(Error::BadRequest("name at least one column".into()));
        }
        match self.format {
            Format::Csv => {
                let mut reader = csv_input::reader(input, true, false);
                let header = reader
                    .byte_headers()
                    .map_err(|e| csv_input::problem(&self.file, e))?
                    .clone();
                let names: Vec<String> = header
                    .iter()
                    .map(|h| String::from_utf8_lossy(h).into_owned())
                    .collect();
                let mut by_index = vec![None; names.len()];
                for (t, target) in self.targets.iter().enumerate() {
                    let mut found = false;
                    for (i, name) in names.iter().enumerate() {
                        if *name == target.column {
                            by_index[i] = Some(t);
                            found = true;
                        }
                    }
                    if !found {
                        return Err(Error::MissingColumn {
                            file: self.file.clone(),
                            column: target.column.clone(),
                            available: if names.is_empty() {
                                "none: the file is empty".into()
                            } else {
                                names.join(", ")
                            },
                        });
                    }
                }
                let mut head = csv::Writer::from_writer(Vec::new());
                head.write_byte_record(&header)
                    .map_err(|e| csv_input::problem(&self.file, e))?;
                let head = head.into_inner().map_err(|e| self.io(e.into_error()))?;
                output.write_all(&head).map_err(written)?;
                self.pipeline(
                    &by_index,
                    |file| rows::next_csv(file, &mut reader),
                    output,
                    progress,
                )
            }
            Format::JsonLines => {
                let mut lines = JsonLines::new(input);
                self.pipeline(&[], |file| lines.next_chunk(file), output, progress)
            }
        }
    }

    /// The reader thread, the workers and the ordered writer.
    fn pipeline(
        &self,
        by_index: &[Option<usize>],
        mut next: impl FnMut(&std::path::Path) -> Result<Option<Chunk>> + Send,
        output: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Counts> {
        let workers = self.workers.max(1);
        // Chunks read but not yet written: the reader takes a token before each read and the
        // writer gives it back after writing, so memory stays bounded even when one chunk is
        // slow, and the queue (as deep as the tokens) never blocks the reader.
        let in_flight = workers * 4;
        let (chunks, to_work) = sync_channel::<(u64, Result<Chunk>)>(in_flight);
        let to_work = Mutex::new(to_work);
        let (finished, done) = sync_channel::<(u64, Result<Done>)>(in_flight);
        let (give, take) = sync_channel::<()>(in_flight);
        for _ in 0..in_flight {
            give.send(())
                .map_err(|_| Error::BadRequest("the pipeline stopped".into()))?;
        }
        let to_work = &to_work;
        std::thread::scope(move |scope| {
            scope.spawn(move || {
                let mut seq = 0;
                // No token: the writer stopped (an error); stop reading.
                while take.recv().is_ok() {
                    let item = match next(&self.file) {
                        Ok(Some(chunk)) => Ok(chunk),
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    let stop = item.is_err();
                    if chunks.send((seq, item)).is_err() || stop {
                        return;
                    }
                    seq += 1;
                }
            });
            for _ in 0..workers {
                let finished = finished.clone();
                scope.spawn(move || loop {
                    let job = match to_work.lock() {
                        Ok(queue) => queue.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok((seq, chunk)) = job else { return };
                    let result = chunk.and_then(|c| rows::work(self, by_index, c));
                    if finished.send((seq, result)).is_err() {
                        return;
                    }
                });
            }
            drop(finished);
            // Takes `done` and `give`: returning drops them, which stops the workers and then
            // the reader, before the scope waits for them.
            self.write_in_order(done, give, output, progress)
        })
    }

    /// Writes finished chunks in input order, giving back a reading token for each.
    fn write_in_order(
        &self,
        done: Receiver<(u64, Result<Done>)>,
        give: SyncSender<()>,
        output: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Counts> {
        let mut counts = Counts::default();
        let mut waiting = BTreeMap::new();
        let mut expected = 0u64;
        for (seq, result) in done.iter() {
            waiting.insert(seq, result);
            while let Some(result) = waiting.remove(&expected) {
                let chunk = result?;
                output.write_all(&chunk.bytes).map_err(written)?;
                counts += chunk.counts;
                progress(chunk.end_byte);
                expected += 1;
                // The reader may be gone (at the end): nothing to give back to.
                let _ = give.send(());
            }
        }
        output.flush().map_err(written)?;
        Ok(counts)
    }
}
