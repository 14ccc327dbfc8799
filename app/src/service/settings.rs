//! Server settings: dialects, signing, encryption, lockout, limits, workgroup.

use crate::backend::smb::{self, SettingSpec};
use crate::error::{AppError, AppResult};
use crate::model::audit::Action;
use crate::model::health::BudgetSetting;
use crate::service::{Actor, Control};

/// One change asked for: the setting's key, its new value, and the form field it was typed in
/// (errors name that field; `value` on the command line).
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    pub field: &'static str,
    pub key: &'a str,
    pub value: &'a str,
}

/// The value in force for every setting.
pub async fn list(control: &Control) -> AppResult<Vec<(&'static SettingSpec, String)>> {
    smb::list_settings(&control.db).await
}

/// The settings of the resource budget (limits, deadlines, Retry, repeat offenders), as stored.
pub async fn budget(control: &Control) -> AppResult<Vec<BudgetSetting>> {
    let settings = list(control).await?;
    Ok(settings
        .into_iter()
        .filter(|(spec, _)| spec.key.starts_with("limit_") || spec.key == "quic_handshakes_before_retry")
        .map(|(spec, value)| BudgetSetting {
            key: spec.key.to_owned(),
            value,
            default: spec.default.to_owned(),
            description: spec.description.to_owned(),
        })
        .collect())
}

/// Checks every change before storing any, then stores and audits (with the old value) each
/// that changes something. Returns the settings that changed, as `(key, value)`.
pub async fn change(control: &Control, actor: &Actor, changes: &[Change<'_>]) -> AppResult<Vec<(String, String)>> {
    let mut checked = Vec::with_capacity(changes.len());
    for change in changes {
        let spec = smb::setting_spec(change.key).map_err(at(change.field))?;
        let value = smb::check_setting(spec, change.value).map_err(at(change.field))?;
        checked.push((spec, value, change.field));
    }
    let mut changed = Vec::new();
    for (spec, value, field) in checked {
        let before = smb::setting(&control.db, spec.key).await?;
        if before.as_deref().unwrap_or(spec.default) == value {
            continue;
        }
        let value = smb::change_setting(&control.db, spec.key, &value).await.map_err(at(field))?;
        let detail = format!("{} -> {value}", before.as_deref().unwrap_or("default"));
        control.audit(actor.did(Action::SettingsChange, spec.key).detail(detail)).await;
        changed.push((spec.key.to_owned(), value));
    }
    if !changed.is_empty() {
        control.apply().await?;
    }
    Ok(changed)
}

/// The stores' checks name their field `value`; a form has one input per setting.
fn at(field: &'static str) -> impl Fn(AppError) -> AppError {
    move |error| match error {
        AppError::Invalid { message, .. } => AppError::invalid(field, message),
        other => other,
    }
}
