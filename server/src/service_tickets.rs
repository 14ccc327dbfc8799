//! Keeps a ticket-granting ticket for each of the service's principals, for the user-to-user
//! Kerberos clients ([`smb_core::auth::kerberos::service_ticket`]): with the newest keytab key of
//! a principal whose realm has KDCs configured, an AS exchange over the same KDC transport the
//! KDC proxy uses, renewed at two thirds of the ticket's life, retried after a failure a minute
//! later, then twice as long after each further one, up to an hour.
//! The previous TGT stays served until it ends, for the service tickets issued under it.
//! Nothing of it is stored: after a restart the first round fetches new ones.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use app::backend::kerberos;
use smb_core::EngineHandle;
use smb_core::auth::kerberos::kkdcp::tcp_framed;
use smb_core::auth::kerberos::service_ticket::{AsExchange, ServiceTicket};
use sqlx::SqlitePool;
use tokio::task::JoinHandle;

/// The lifetime asked for; the KDC's policy may give less (MIT's default is 24 hours, Active
/// Directory's 10).
const LIFETIME: Duration = Duration::from_secs(10 * 3600);
/// How long after a failed AS exchange a principal is tried again: a minute, doubling with each
/// failure in a row up to an hour (a KDC that refuses for good is not asked every minute).
const RETRY: Duration = Duration::from_secs(60);
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// How often the keeper looks at its tickets and the configuration.
const ROUND: Duration = Duration::from_secs(15);

/// The TGTs held, and when each principal may be tried again after failures.
#[derive(Default)]
pub struct ServiceTickets {
    held: Vec<ServiceTicket>,
    /// Per principal: failures in a row, and when it may be tried again.
    failed: HashMap<String, (u32, SystemTime)>,
}

/// The wait after `failures` failures in a row.
fn retry_after(failures: u32) -> Duration {
    RETRY.saturating_mul(1 << failures.saturating_sub(1).min(6)).min(RETRY_MAX)
}

fn unix(time: SystemTime) -> (i64, u32) {
    smb_core::engine::clock::unix(time)
}

impl ServiceTickets {
    /// One round: fetches the TGTs missing or past two thirds of their life, drops the ended
    /// ones and those of principals no longer configured, and gives the engine the rest.
    pub async fn refresh(&mut self, db: &SqlitePool, engine: &EngineHandle) {
        let keys = engine.service_keys();
        let exchanges = AsExchange::for_keys(&keys, rand::random);
        let now = SystemTime::now();
        let (seconds, _) = unix(now);
        let before = self.held.len();
        // Read when a principal needs a TGT, not every round.
        let mut realms = None;
        for exchange in &exchanges {
            let principal = exchange.principal();
            let fresh = self.held.iter().filter(|tgt| tgt.principal() == principal).any(|tgt| {
                let life = tgt.endtime.saturating_sub(tgt.authtime);
                seconds < tgt.authtime.saturating_add(life * 2 / 3)
            });
            let waiting = self.failed.get(&principal).is_some_and(|(_, next)| now < *next);
            if fresh || waiting {
                continue;
            }
            if realms.is_none() {
                realms = Some(kerberos::list_realms(db).await.unwrap_or_default());
            }
            let realms = realms.as_deref().unwrap_or_default();
            let Some(realm) = realms.iter().find(|realm| realm.name == exchange.realm()) else { continue };
            match fetch(exchange, &realm.kdcs).await {
                Ok(tgt) => {
                    tracing::info!(%principal, endtime = tgt.endtime, "got a TGT for user-to-user clients");
                    self.failed.remove(&principal);
                    self.held.push(tgt);
                }
                Err(error) => {
                    let failures = self.failed.get(&principal).map_or(0, |(failures, _)| *failures) + 1;
                    let wait = retry_after(failures);
                    tracing::warn!(
                        %principal,
                        %error,
                        retry_in_seconds = wait.as_secs(),
                        "cannot get a TGT for user-to-user clients"
                    );
                    self.failed.insert(principal, (failures, now + wait));
                }
            }
        }
        let fetched = self.held.len() > before;
        let configured: Vec<String> = exchanges.iter().map(AsExchange::principal).collect();
        self.held.retain(|tgt| tgt.endtime > seconds && configured.contains(&tgt.principal()));
        // The newest two of each principal: the current one and its predecessor.
        self.held.sort_by_key(|tgt| std::cmp::Reverse(tgt.authtime));
        let mut seen: HashMap<String, usize> = HashMap::new();
        self.held.retain(|tgt| {
            let count = seen.entry(tgt.principal()).or_default();
            *count += 1;
            *count <= 2
        });
        // The engine's copy changes only when a TGT came or went.
        if fetched || self.held.len() != before {
            engine.set_service_tickets(self.held.clone());
        }
    }

    /// The TGTs held now.
    pub fn held(&self) -> &[ServiceTicket] {
        &self.held
    }
}

/// One AS exchange with the realm's KDCs.
async fn fetch(exchange: &AsExchange, kdcs: &[String]) -> Result<ServiceTicket, String> {
    let confounder: [u8; 16] = rand::random();
    let request = exchange.request(unix(SystemTime::now()), LIFETIME, &confounder)?;
    let framed = tcp_framed(&request).ok_or("the AS-REQ is too long")?;
    let reply = crate::kdc_proxy::forward(&framed, kdcs).await.ok_or("no KDC of the realm answers")?;
    exchange.reply(reply.get(4..).unwrap_or_default()).map_err(|failure| failure.to_string())
}

/// Runs [`ServiceTickets::refresh`] every [`ROUND`] until aborted.
pub fn keep(db: SqlitePool, engine: EngineHandle) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tickets = ServiceTickets::default();
        let mut ticker = tokio::time::interval(ROUND);
        loop {
            ticker.tick().await;
            tickets.refresh(&db, &engine).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_a_minute_then_twice_as_long_after_each_failure_up_to_an_hour() {
        let waits: Vec<u64> = (1..=9).map(|failures| retry_after(failures).as_secs()).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
