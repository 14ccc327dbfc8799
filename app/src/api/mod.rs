//! Typed server functions, one module per domain: each a thin call into a service or the backend;
//! the data they exchange lives in `crate::model`.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod certs;
pub mod health;
pub mod identity;
pub mod overview;
pub mod quic;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod users;

/// A server function's work done as the signed-in administrator: the service gets the console's
/// control layer and the administrator as its actor, and a failure gets its HTTP status.
#[cfg(feature = "ssr")]
pub(crate) async fn as_admin<T, Work>(
    work: impl FnOnce(crate::service::Control, crate::service::Actor) -> Work,
) -> crate::error::AppResult<T>
where
    Work: std::future::Future<Output = crate::error::AppResult<T>>,
{
    crate::backend::respond(async move {
        let actor = crate::service::Actor::console_admin().await?;
        work(crate::service::Control::console()?, actor).await
    })
    .await
}
