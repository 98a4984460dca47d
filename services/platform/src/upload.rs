//! A file uploaded over gRPC as a stream of pieces (an import), gathered whole
//! up to a limit before it is read.

use tokio_stream::{Stream, StreamExt};
use tonic::Status;

/// The file and the dry-run flag, or RESOURCE_EXHAUSTED as soon as the pieces
/// pass `most` bytes (nothing more is read). `piece` takes a message apart:
/// whether the caller asks for a dry run (the first message decides) and the
/// next piece of the file.
pub async fn gather<M, S>(
    mut stream: S,
    most: usize,
    piece: impl Fn(M) -> (bool, Vec<u8>),
) -> Result<(Vec<u8>, bool), Status>
where
    S: Stream<Item = Result<M, Status>> + Unpin,
{
    let mut bytes = Vec::new();
    let mut dry_run = None;
    while let Some(message) = stream.next().await {
        let (asked, chunk) = piece(message?);
        dry_run.get_or_insert(asked);
        if bytes.len() + chunk.len() > most {
            return Err(Status::resource_exhausted(format!(
                "the file is larger than the {} MiB an import accepts",
                most >> 20
            )));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok((bytes, dry_run.unwrap_or(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Piece(bool, &'static [u8]);

    fn apart(piece: Piece) -> (bool, Vec<u8>) {
        (piece.0, piece.1.to_vec())
    }

    #[tokio::test]
    async fn the_pieces_are_joined_and_the_first_says_whether_it_is_a_dry_run() {
        let pieces = tokio_stream::iter([Ok(Piece(true, b"ab")), Ok(Piece(false, b"cd"))]);
        assert_eq!(gather(pieces, 4, apart).await.expect("within the limit"), (b"abcd".to_vec(), true));
    }

    #[tokio::test]
    async fn a_file_over_the_limit_is_refused_as_too_large() {
        let pieces = tokio_stream::iter([Ok(Piece(false, b"abc")), Ok(Piece(false, b"de"))]);
        let refused = gather(pieces, 4, apart).await.expect_err("over the limit");
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
    }
}
