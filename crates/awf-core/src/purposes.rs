//! The purposes catalogue: every [`Purpose`] with the policy clause it comes from, its words in
//! Chinese and English, an excerpt of the policy that grounds it (checked against the shipped
//! text by a test), and whether the service needs it. Optional purposes start off; refusing them
//! never blocks the service.

use serde::Serialize;

use crate::consent::Purpose;

/// A text in both languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Bilingual {
    pub zh_cn: &'static str,
    pub en: &'static str,
}

/// What the consent centre shows for one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PurposeInfo {
    pub purpose: Purpose,
    /// The policy clause, e.g. `1.2(2)`.
    pub clause: &'static str,
    /// Needed to use the platform at all (granted with the policy at sign-up).
    pub required: bool,
    /// Needs no consent (reading the platform's status and policy).
    pub exempt: bool,
    pub title: Bilingual,
    /// What is sent, when, and why, in a sentence or two.
    pub description: Bilingual,
    /// Verbatim from the shipped policy.
    pub policy_excerpt: Bilingual,
}

const fn b(zh_cn: &'static str, en: &'static str) -> Bilingual {
    Bilingual { zh_cn, en }
}

/// Every purpose, in the order of [`Purpose::ALL`].
pub const CATALOGUE: [PurposeInfo; 10] = [
    PurposeInfo {
        purpose: Purpose::ServiceInformation,
        clause: "—",
        required: false,
        exempt: true,
        title: b("平台状态与隐私政策", "Platform status and privacy policy"),
        description: b(
            "读取平台的能力与现行隐私政策。不发送任何个人信息、标识符或 Cookie,因此无需同意。",
            "Reading the platform's capabilities and its current privacy policy. Sends no personal information, identifier or cookie, so it needs no consent.",
        ),
        policy_excerpt: b("我们非常重视用户信息的安全", "We take the security of user information very seriously"),
    },
    PurposeInfo {
        purpose: Purpose::AccountOperation,
        clause: "1.1",
        required: true,
        exempt: false,
        title: b("账号注册、认证及登录", "Account registration, authentication and login"),
        description: b(
            "注册、登录、刷新会话、查看和更正资料、回执同意记录。接受隐私政策即授予。",
            "Sign-up, log-in, session refresh, viewing and correcting your profile, and consent receipts. Granted by accepting the privacy policy.",
        ),
        policy_excerpt: b(
            "我们将获取您登录 AiWellFlow 及相关服务时的账号信息,包括您的账号、注册手机号、认证信息。",
            "we will obtain your account information when you log in to AiWellFlow and related services, including your account, registered phone number, and authentication information.",
        ),
    },
    PurposeInfo {
        purpose: Purpose::SecurityDeviceInfo,
        clause: "1.2(2)",
        required: false,
        exempt: false,
        title: b("安全与设备信息", "Security and device information"),
        description: b(
            "操作系统及版本、时区、语言、应用版本,用于安全和正常运行。发送前可预览。",
            "Operating system and version, time zone, language and app version, for security and normal operation. Previewable before it is sent.",
        ),
        policy_excerpt: b(
            "我们会收集你的操作系统类型及操作系统版本号、IP地址、浏览器类型及浏览器版本、时区和语言等设备信息",
            "we collect your operating system type and version, IP address, browser type and version, time zone and language, and other device information",
        ),
    },
    PurposeInfo {
        purpose: Purpose::UsageAnalytics,
        clause: "1.2(3)",
        required: false,
        exempt: false,
        title: b("使用情况与性能数据", "Usage and performance data"),
        description: b(
            "使用频率、功能使用情况和性能样本(如启动耗时),不含智能体内容。",
            "How often features are used and performance samples (such as start-up time); never the content of your agents.",
        ),
        policy_excerpt: b(
            "我们可能记录网络日志信息,以及使用平台及相关服务的频率、崩溃数据、使用情况及相关性能数据信息。",
            "We may record network log information, frequency of use, crash data, usage patterns, and related performance data",
        ),
    },
    PurposeInfo {
        purpose: Purpose::CrashReports,
        clause: "1.2(3)",
        required: false,
        exempt: false,
        title: b("崩溃报告", "Crash reports"),
        description: b(
            "应用或界面出错时的错误信息与位置,不含令牌、密码或智能体内容。",
            "The error message and where it happened when the app or its UI fails; never tokens, passwords or agent content.",
        ),
        policy_excerpt: b("崩溃数据", "crash data"),
    },
    PurposeInfo {
        purpose: Purpose::Marketing,
        clause: "1.2(6)",
        required: false,
        exempt: false,
        title: b("营销短信与电话", "Marketing SMS and calls"),
        description: b(
            "通过短信或电话向你的手机号发送你可能感兴趣的服务、功能或活动。随时可退订,平台会同步生效。",
            "Messages and calls to your phone about services, features or events. You can opt out at any time, and the platform follows.",
        ),
        policy_excerpt: b(
            "如你不愿接受这些信息,你可以通过手机短信中提供的退订方式进行退订",
            "You can opt out of commercial information through the unsubscribe method provided in SMS messages.",
        ),
    },
    PurposeInfo {
        purpose: Purpose::Research,
        clause: "1.2(7)",
        required: false,
        exempt: false,
        title: b("匿名化研究(含指令)", "Anonymised research (including instructions)"),
        description: b(
            "在技术处理使其无法识别到你之后,将信息(包括你创建智能体时输入的指令)用于学术研究或统计分析。",
            "Using information, including the instructions you write for agents, for academic research or statistics after it has been processed so that it no longer identifies you.",
        ),
        policy_excerpt: b(
            "包括使用你在创建智能体时输入的指令信息",
            "for anonymized academic research or statistical analysis",
        ),
    },
    PurposeInfo {
        purpose: Purpose::DeveloperDataHosting,
        clause: "1.5 (4.5)",
        required: false,
        exempt: false,
        title: b("开发者数据托管", "Developer data hosting"),
        description: b(
            "将你的智能体、插件和数据同步到平台托管。关闭时一切只保存在本机。",
            "Syncing your agents, plugins and data to the platform for hosting. While off, everything stays on this computer.",
        ),
        policy_excerpt: b(
            "我们向你提供一项免费的数据托管服务",
            "We provide you with a free data hosting service for your Developer Data",
        ),
    },
    PurposeInfo {
        purpose: Purpose::CrossBorderTransfer,
        clause: "3.1",
        required: false,
        exempt: false,
        title: b("跨境传输", "Cross-border transfer"),
        description: b(
            "将个人信息传输至中华人民共和国境外。平台目前不做跨境传输;未经同意不会开始。",
            "Transferring personal information outside the People's Republic of China. The platform does not do this now, and will not start without your consent.",
        ),
        policy_excerpt: b(
            "目前,我们不会将上述信息传输至境外",
            "Currently, we will not transfer the above information abroad.",
        ),
    },
    PurposeInfo {
        purpose: Purpose::ThirdPartySharing,
        clause: "4.2",
        required: false,
        exempt: false,
        title: b("向第三方转移", "Transfer to third parties"),
        description: b(
            "将你的个人信息转移给第三方。没有你的明确同意不会发生。",
            "Transferring your personal information to a third party. It does not happen without your explicit consent.",
        ),
        policy_excerpt: b(
            "获得你的明确同意后,我们会向其他第三方转移你的个人信息。",
            "with your explicit consent",
        ),
    },
];

/// The catalogue entry of a purpose.
pub fn info(purpose: Purpose) -> &'static PurposeInfo {
    CATALOGUE.iter().find(|i| i.purpose == purpose).expect("every purpose is in the catalogue")
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY_ZH: &str = include_str!("../../../assets/policy/v1/zh-CN.txt");
    const POLICY_EN: &str = include_str!("../../../assets/policy/v1/en.txt");

    #[test]
    fn every_purpose_once_in_order_with_excerpts_from_the_shipped_policy() {
        assert_eq!(CATALOGUE.map(|i| i.purpose), Purpose::ALL);
        for i in CATALOGUE {
            assert!(POLICY_ZH.contains(i.policy_excerpt.zh_cn), "{:?}: zh excerpt not in the policy", i.purpose);
            assert!(POLICY_EN.contains(i.policy_excerpt.en), "{:?}: en excerpt not in the policy", i.purpose);
            assert!(!(i.required && i.exempt));
        }
        let required: Vec<_> = CATALOGUE.iter().filter(|i| i.required).map(|i| i.purpose).collect();
        assert_eq!(required, vec![Purpose::AccountOperation], "only account operation is needed for the service");
    }
}
