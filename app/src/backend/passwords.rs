//! argon2id hashing and checking of console passwords, a few at a time, in memory of their own.
//!
//! Each hash or check works through about 19 MiB (argon2's default parameters). Left to the
//! allocator, that memory was taken per request and then kept by the allocator per thread: 64
//! parallel sign-ins took the server from 902 to 2,042 MiB, and even two at a time, 64 checks in a
//! row left 400 MiB behind. So at most [`turns`] computations run at once, each turn works in a
//! buffer that turns hand on to one another (allocated once, at most [`turns`] of them), and a
//! request that gets no turn within [`WAIT`] is answered busy (HTTP 429) instead of queuing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{self, Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{AppError, AppResult};

/// How long a request waits for a turn before it is answered busy.
pub const WAIT: Duration = Duration::from_secs(2);

static BUDGET: LazyLock<Budget> = LazyLock::new(|| Budget::new(turns()));
static COMPUTED: AtomicU64 = AtomicU64::new(0);

/// How many hashes or checks may run at once: one per core, at most 4 (76 MiB).
pub fn turns() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get()).clamp(1, 4)
}

/// argon2 computations since start (hashes and checks, the decoy's included).
pub fn computed() -> u64 {
    COMPUTED.load(Ordering::Relaxed)
}

type Memory = Vec<Block>;

/// A turn at argon2, the proof that one more computation fits, with the memory it works in. It
/// moves into the blocking task that computes, so it is held until the computation ends even
/// when the request that asked for it is dropped (a client that disconnects frees nothing early).
pub struct Turn {
    memory: Memory,
    spare: Arc<Mutex<Vec<Memory>>>,
    _permit: OwnedSemaphorePermit,
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Turn").field("memory_blocks", &self.memory.len()).finish()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        // Handed on before the permit is released (fields drop after this), so the next turn finds it.
        let memory = std::mem::take(&mut self.memory);
        self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(memory);
    }
}

/// Waits up to [`WAIT`] for a turn.
pub async fn turn() -> AppResult<Turn> {
    BUDGET.turn().await
}

struct Budget {
    permits: Arc<Semaphore>,
    spare: Arc<Mutex<Vec<Memory>>>,
}

impl Budget {
    fn new(turns: usize) -> Budget {
        Budget { permits: Arc::new(Semaphore::new(turns)), spare: Arc::default() }
    }

    async fn turn(&self) -> AppResult<Turn> {
        match tokio::time::timeout(WAIT, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => {
                let memory = self.spare.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
                Ok(Turn { memory: memory.unwrap_or_default(), spare: Arc::clone(&self.spare), _permit: permit })
            }
            Ok(Err(closed)) => Err(AppError::Internal(format!("password checks: {closed}"))),
            Err(_elapsed) => {
                tracing::warn!("console: every password check is taken; a request was answered busy");
                Err(AppError::Busy { retry_after_seconds: WAIT.as_secs().max(1) })
            }
        }
    }
}

/// argon2 as `PasswordHasher::hash_password` computes it, but in `memory` (grown to the
/// parameters' size if needed, and kept).
fn compute<'a>(
    memory: &mut Memory,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: Salt<'a>,
) -> password_hash::Result<PasswordHash<'a>> {
    COMPUTED.fetch_add(1, Ordering::Relaxed);
    let mut salt_bytes = [0; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let blocks = params.block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let output = Output::init_with(output_len, |out| {
        Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..blocks])?)
    })?;
    Ok(PasswordHash {
        algorithm: algorithm.ident(),
        version: Some(version.into()),
        params: ParamsString::try_from(&params)?,
        salt: Some(salt),
        hash: Some(output),
    })
}

fn hash_now(memory: &mut Memory, password: &[u8]) -> AppResult<String> {
    let salt =
        SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(|e| AppError::Internal(format!("salt: {e}")))?;
    compute(memory, Algorithm::default(), Version::default(), Params::default(), password, salt.as_salt())
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Whether `password` is the one `hash` (a PHC string) was made from; the comparison of the
/// outputs takes constant time.
fn check_now(memory: &mut Memory, hash: &str, password: &[u8]) -> password_hash::Result<bool> {
    let expected = PasswordHash::new(hash)?;
    let (Some(salt), Some(output)) = (expected.salt, &expected.hash) else { return Ok(false) };
    let algorithm = Algorithm::try_from(expected.algorithm)?;
    let version = expected.version.map(Version::try_from).transpose()?.unwrap_or_default();
    let params = Params::try_from(&expected)?;
    let computed = compute(memory, algorithm, version, params, password, salt)?;
    Ok(computed.hash.as_ref() == Some(output))
}

/// The PHC string (argon2id) of `password`, computed off the async workers.
pub async fn hash(turn: Turn, password: &str) -> AppResult<String> {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut turn = turn;
        hash_now(&mut turn.memory, password.as_bytes())
    })
    .await
    .map_err(|e| AppError::Internal(format!("password hashing task: {e}")))?
}

/// A hash of no one's password, checked for unknown names so that a wrong name takes as long as
/// a wrong password and the answer does not reveal which accounts exist.
static DECOY: OnceLock<String> = OnceLock::new();

/// Whether `password` matches `hash`; without a hash (an unknown name), the decoy is checked and
/// the answer is no.
pub async fn matches(turn: Turn, hash: Option<String>, password: &str) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut turn = turn;
        let known = hash.is_some();
        let hash = match hash {
            Some(hash) => hash,
            None => DECOY
                .get_or_init(|| hash_now(&mut turn.memory, b"no account has this password").unwrap_or_default())
                .clone(),
        };
        let matches = check_now(&mut turn.memory, &hash, password.as_bytes()).unwrap_or(false);
        known && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_matches_its_password_only() {
        let hash = hash(turn().await.unwrap(), "correct horse").await.unwrap();
        assert!(matches(turn().await.unwrap(), Some(hash.clone()), "correct horse").await);
        assert!(!matches(turn().await.unwrap(), Some(hash), "wrong horse").await);
        assert!(!matches(turn().await.unwrap(), None, "no account has this password").await);
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_are_checked_alike() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
        let theirs = Argon2::default().hash_password(b"correct horse", &salt).unwrap().to_string();
        let mut memory = Memory::new();
        assert_eq!(
            compute(
                &mut memory,
                Algorithm::default(),
                Version::default(),
                Params::default(),
                b"correct horse",
                salt.as_salt()
            )
            .unwrap()
            .to_string(),
            theirs
        );
        assert!(check_now(&mut memory, &theirs, b"correct horse").unwrap());
        assert!(!check_now(&mut memory, &theirs, b"correct horsf").unwrap());
        // Other parameters (an older or a future default) are checked by their own.
        let small = Params::new(1024, 1, 1, None).unwrap();
        let other =
            Argon2::new(Algorithm::Argon2i, Version::V0x10, small).hash_password(b"pw", &salt).unwrap().to_string();
        assert!(check_now(&mut memory, &other, b"pw").unwrap());
        assert!(!check_now(&mut memory, &other, b"px").unwrap());
    }

    #[tokio::test]
    async fn requests_beyond_the_turns_are_answered_busy_after_the_wait() {
        let budget = Budget::new(2);
        let mut held = vec![budget.turn().await.unwrap(), budget.turn().await.unwrap()];
        let started = std::time::Instant::now();
        let refused = budget.turn().await.unwrap_err();
        assert!(matches!(refused, AppError::Busy { retry_after_seconds: 2 }), "{refused:?}");
        assert!(started.elapsed() >= WAIT);
        drop(held.pop());
        budget.turn().await.expect("a turn once one is free");
    }
}
